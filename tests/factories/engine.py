"""Factories for the attribution engine's tests: ledger rows and pixel rows written directly (the
pixel and ledger services have their own suites; the demo seeder goes through them)."""

from datetime import UTC, datetime

import factory

from attribution.models import Identity, Touch, Visitor
from integrations.models import Order, ProcessorConnection, Subscription
from tests.factories.workspaces import WorkspaceFactory

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessorConnection
        django_get_or_create = ["workspace", "processor"]

    workspace = factory.SubFactory(WorkspaceFactory)
    processor = "polar"
    api_token = "token"
    webhook_secret = "secret"
    api_base_url = "https://api.example.test"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    workspace = factory.SubFactory(WorkspaceFactory)
    connection = factory.LazyAttribute(lambda o: ConnectionFactory(workspace=o.workspace, processor=o.processor))
    processor = "polar"
    external_id = factory.Sequence(lambda n: f"sub_{n}")
    status = "active"
    source_updated_at = T0


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    workspace = factory.SubFactory(WorkspaceFactory)
    connection = factory.LazyAttribute(lambda o: ConnectionFactory(workspace=o.workspace, processor=o.processor))
    processor = "polar"
    external_id = factory.Sequence(lambda n: f"ord_{n}")
    kind = "one_time"
    status = "paid"
    currency = "USD"
    amount_minor = 4900
    amount_usd_minor = factory.LazyAttribute(lambda o: o.amount_minor if o.currency == "USD" else None)
    placed_at = T0
    paid_at = factory.LazyAttribute(lambda o: o.placed_at)
    first_seen_via = "webhook"
    source_updated_at = factory.LazyAttribute(lambda o: o.placed_at)


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor
        django_get_or_create = ["workspace", "visitor_id"]

    workspace = factory.SubFactory(WorkspaceFactory)
    visitor_id = factory.Sequence(lambda n: f"v{n:08d}")
    created_at = T0


class TouchFactory(factory.django.DjangoModelFactory):
    """A touch; its Visitor row is created too, as the pixel does."""

    class Meta:
        model = Touch
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    visitor_id = factory.Sequence(lambda n: f"v{n:08d}")
    occurred_at = T0
    channel = "Direct"
    channel_group = factory.LazyAttribute(lambda o: "Direct" if o.channel == "Direct" else "Referral")
    campaign = ""

    @factory.post_generation
    def visitor(obj, create, extracted, **kwargs):
        if create:
            VisitorFactory(workspace=obj.workspace, visitor_id=obj.visitor_id)


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    workspace = factory.SubFactory(WorkspaceFactory)
    visitor_id = factory.Sequence(lambda n: f"v{n:08d}")
    email_digest = "digest"
    created_at = T0
