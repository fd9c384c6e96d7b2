import datetime as dt
import json

import factory

from integrations.models import ProcessorConnection, WebhookEvent
from integrations.processors.types import NormalizedOrder
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


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored delivery, as the inbox keeps it: `WebhookEventFactory(connection=…, payload={…})`."""

    class Meta:
        model = WebhookEvent
        exclude = ["payload"]

    connection = factory.SubFactory(ProcessorConnectionFactory)
    workspace = factory.LazyAttribute(lambda o: o.connection.workspace)
    processor = factory.LazyAttribute(lambda o: o.connection.processor)
    delivery_id = factory.Sequence(lambda n: f"msg_{n}")
    payload = factory.LazyFunction(dict)
    event_type = factory.LazyAttribute(lambda o: o.payload.get("type", ""))
    body = factory.LazyAttribute(lambda o: json.dumps(o.payload))


def webhook_deliver(connection, body: dict, committed, broker) -> None:
    """A webhook delivery stored and processed by the worker, then everything it sets off (the
    `committed` and `broker` fixtures of tests/conftest.py)."""
    from integrations.services.webhooks import webhook_event_process

    stored = WebhookEventFactory(connection=connection, payload=body)
    with committed():
        webhook_event_process(event_id=stored.pk)
    broker.run()


def paid_order(external_id: str, placed: dt.datetime) -> NormalizedOrder:
    """A paid one-time order of USD 49.00 as an adapter's mapping hands it to the ledger."""
    return NormalizedOrder(
        external_id=external_id,
        status="paid",
        kind="one_time",
        currency="USD",
        amount_minor=4900,
        tax_minor=0,
        refunded_minor=0,
        placed_at=placed,
        paid_at=placed,
        visitor_ref="",
        customer=None,
        subscription_external_id="",
        source_updated_at=placed,
    )
