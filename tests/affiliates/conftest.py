import pytest

from tests.factories.affiliates import PartnerFactory, ProgramFactory
from tests.factories.integrations import ProcessorConnectionFactory
from tests.factories.workspaces import WorkspaceFactory


@pytest.fixture
def pro(db):
    return WorkspaceFactory(plan="pro")


@pytest.fixture
def connection(pro):
    return ProcessorConnectionFactory(workspace=pro)


@pytest.fixture
def program(pro):
    return ProgramFactory(workspace=pro, commission_value="20", hold_days=30, cookie_days=60)


@pytest.fixture
def partner(program):
    return PartnerFactory(program=program, code="acme", name="Acme Blog", email="owner@acme-blog.example")
