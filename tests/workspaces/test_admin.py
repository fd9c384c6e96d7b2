import pytest

from tests.factories.workspaces import MembershipFactory, UserFactory
from trackrev.workspaces.models import ApiKey
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/workspaces/workspace/",
        "/admin/workspaces/membership/",
        "/admin/workspaces/apikey/",
        "/admin/workspaces/user/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/health/heartbeat/",
    ],
)
def test_staff_screens_load(staff_client, url):
    MembershipFactory()

    assert staff_client.get(url).status_code == 200


def test_admin_revoke_action(staff_client, workspace):
    key = api_key_create(workspace=workspace, name="leaked").api_key

    response = staff_client.post(
        "/admin/workspaces/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )

    assert response.status_code == 200
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_members_cannot_open_the_admin(owner_client):
    assert owner_client.get("/admin/")["Location"].startswith("/admin/login/")
