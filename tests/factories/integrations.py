import datetime as dt

import factory

from integrations.models import ProcessorConnection
from tests.factories.workspaces import WorkspaceFactory

POLAR_SECRET = "whsec_Kx7Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2Uc7Vq"
POLAR_TOKEN = "polar_oat_T0kenValueThatMustNeverLeak1234567890"


class ProcessorConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessorConnection

    workspace = factory.SubFactory(WorkspaceFactory)
    processor = "polar"
    api_token = POLAR_TOKEN
    webhook_secret = POLAR_SECRET
    api_base_url = "https://api.polar.sh/v1"
    reconciled_through = factory.LazyFunction(lambda: dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
