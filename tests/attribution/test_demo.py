"""The demo workspace behind `make run`: generated through the pixel and ledger services, credited, and
shaped like a real account on every page, on demo connections that look healthy and never call out."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import responses
from django.core.management import CommandError, call_command
from django.db.models import F, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from attribution.models import AttributionState, ChannelRule, Credit, DailyRollup, Identity, Touch
from integrations.models import Order, ProcessorConnection, Subscription, SyncRun, WebhookEvent
from integrations.processors.registry import ADAPTERS
from integrations.selectors import connection_health
from integrations.services.reconcile import connections_reconcile_queue
from integrations.services.webhooks import webhook_event_process
from trackrev.outbox.models import Notification
from trackrev.workspaces.demo import DEMO_PUBLIC_ID, demo_seed
from trackrev.workspaces.models import ApiKey, UsageDay, UsageMonth
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db


def test_demo_seed_fills_a_living_dashboard(settings, broker, committed):
    assert "attribution.demo.seed_demo_month" in settings.DEMO_SEEDERS
    assert settings.DEMO_SEEDERS.index("integrations.demo.fx_seed") < settings.DEMO_SEEDERS.index(
        "attribution.demo.seed_demo_month"
    )
    with committed():
        workspace = demo_seed().workspace

    orders = Order.objects.filter(workspace=workspace)
    touches = Touch.objects.filter(workspace=workspace)
    channels = set(touches.values_list("channel", flat=True))
    assert {"Newsletter", "Facebook", "YouTube", "Google", "Direct", "ChatGPT"} <= channels
    assert "Affiliates" in set(touches.values_list("channel_group", flat=True))
    # Only processors that can be connected: a real account could have no other.
    assert set(orders.values_list("processor", flat=True)) == set(ADAPTERS)
    assert set(orders.values_list("kind", flat=True)) == {"one_time", "subscription_create", "renewal"}
    assert {"EUR", "GBP", "USD"} <= set(orders.values_list("currency", flat=True))
    assert set(orders.values_list("matched_by", flat=True)) == {"metadata", "subscription", "email", "none"}
    assert Identity.objects.filter(workspace=workspace).exists()
    # Three refunded sales on each processor (refund rows where its API has them, else the order's total).
    assert orders.filter(refunded_minor__gt=0).count() == 3 * len(ADAPTERS)
    assert orders.filter(refunded_minor__gt=0, refunded_minor__lt=F("amount_minor")).exists()  # a partial one
    assert Subscription.objects.filter(workspace=workspace, current_period_end__gt=timezone.now()).exists()
    assert not orders.filter(amount_usd_minor__isnull=True).exists()  # FX rates from the bundled ECB history
    # Every settings page has something on it.
    assert list(workspace.memberships.order_by("role").values_list("role", flat=True)) == ["admin", "owner", "viewer"]
    keys = ApiKey.objects.filter(workspace=workspace)
    assert keys.filter(revoked_at__isnull=True, last_used_at__isnull=False).exists() and keys.count() == 2
    rule = ChannelRule.objects.get(workspace=workspace)
    assert touches.filter(landing_url__contains=f"utm_source={rule.value}", channel=rule.channel).exists()
    assert workspace.allowed_domains
    # The usage page's chart adds up to the month's count.
    for month in UsageMonth.objects.filter(workspace=workspace):
        days = UsageDay.objects.filter(workspace=workspace, day__year=month.month.year, day__month=month.month.month)
        assert days.aggregate(n=Sum("events"))["n"] == month.events
    # Every paid order is credited in every model, and the rollups hold exactly the credits.
    version = AttributionState.objects.get(workspace=workspace).version
    net = sum((o.amount_usd_minor - (o.refunded_usd_minor or 0)) for o in orders)
    for model in ("last_touch", "linear", "time_decay"):
        assert (
            Credit.objects.filter(order__workspace=workspace, model=model).values("order").distinct().count()
            == orders.count()
        )
        rollup = DailyRollup.objects.filter(workspace=workspace, version=version, model=model)
        assert rollup.aggregate(r=Sum("revenue_usd_minor"))["r"] == net
    assert DailyRollup.objects.filter(workspace=workspace, channel="Unattributed").exists()
    # Credited during the seed: nothing is left for the worker (`make run` seeds at every start).
    assert broker.sent == [] and not Notification.objects.exists()


def test_the_demo_connection_looks_healthy_and_never_calls_a_processor(client, broker):
    demo_seed()
    login = demo_seed()  # `make run` seeds again at every start
    now = timezone.now()
    connection = ProcessorConnection.objects.get(processor="polar")  # one of the demo's, one per processor
    health = connection_health(connection=connection)
    assert connection.workspace == login.workspace
    assert WebhookEvent.objects.exclude(connection__workspace=login.workspace).count() == 0

    assert (connection.status, connection.is_demo) == ("active", True)
    assert connection.api_base_url == ADAPTERS[connection.processor].default_api_base_url
    assert now - health.last_webhook_at < dt.timedelta(days=1)
    assert health.failed_deliveries == 0
    assert (health.last_sync.status, health.last_backfill.status) == ("succeeded", "succeeded")
    assert now - health.last_sync_at < dt.timedelta(hours=1)
    assert health.last_backfill.created > 0 and health.last_sync.fetched > 0

    client.login(username=login.email, password=login.password)
    html = client.get("/app/integrations/").content.decode()
    assert "Demo</span>" in html and "Succeeded" in html
    assert "None received yet" not in html and "Disabled" not in html and ".invalid" not in html
    assert "Last hit received" in html  # the pixel's card too: the month's page views are counted

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(workspace=login.workspace, name='t').raw_key}")
    runs = SyncRun.objects.count()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as network:
        assert connections_reconcile_queue() == []
        with pytest.raises(CommandError):
            call_command("reconcile", workspace=DEMO_PUBLIC_ID)
        synced = client.post("/app/integrations/polar/sync/", follow=True).content.decode()
        tested = client.post("/app/integrations/polar/test/", follow=True).content.decode()
        refused = api.post(f"/api/v1/integrations/{connection.pk}/sync/")
        broker.run()

        assert len(network.calls) == 0
    assert "Demo connection: nothing to sync" in synced and "Demo connection: there is no Polar account" in tested
    assert refused.status_code == 400 and refused.json()["detail"].startswith("Demo connection")
    assert SyncRun.objects.count() == runs


def test_the_demos_deliveries_are_real_payloads_that_reprocess_to_the_same_ledger_without_a_call(broker):
    """The inbox keeps what each processor's webhooks would have sent; staff reprocessing one (the admin
    action) read it with the processor's parser again, and a demo connection still calls no processor."""
    workspace = demo_seed().workspace
    events = WebhookEvent.objects.filter(workspace=workspace)
    assert set(events.values_list("processor", flat=True)) == set(ADAPTERS)
    ledger = list(
        Order.objects.filter(workspace=workspace)
        .order_by("pk")
        .values_list("amount_minor", "refunded_minor", "visitor_id")
    )

    with responses.RequestsMock(assert_all_requests_are_fired=False) as network:
        for event in events.exclude(event_type__startswith="refund."):  # a refund's payment lookup: see below
            assert webhook_event_process(event_id=event.pk, force=True).status in ("processed", "ignored")
        refund = events.filter(processor="stripe", event_type="refund.created").first()
        if refund is not None:  # Stripe's refund names only its payment: the demo has no API to ask
            assert webhook_event_process(event_id=refund.pk, force=True).status == "failed"
        assert len(network.calls) == 0

    order_pks = Order.objects.filter(workspace=workspace).order_by("pk")
    assert list(order_pks.values_list("amount_minor", "refunded_minor", "visitor_id")) == ledger


class VisibleText(HTMLParser):
    """A page's text as people read it: not form values, scripts or code snippets."""

    SKIP = {"script", "style", "code", "pre", "textarea", "title"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        self._skipping += tag in self.SKIP

    def handle_endtag(self, tag):
        self._skipping -= tag in self.SKIP

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


MACHINE_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b")


def test_every_page_of_the_demo_shows_days_and_timestamps_in_one_format_each(client):
    login = demo_seed()
    client.login(username=login.email, password=login.password)
    order = Order.objects.filter(refunded_minor__gt=0).first()
    pages = ["/app/", "/app/orders/", f"/app/orders/{order.pk}/", "/app/integrations/", "/app/settings/"]
    pages += ["/app/settings/members/", "/app/settings/api-keys/", "/app/settings/channels/"]
    days = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        reader = VisibleText()
        reader.feed(response.content.decode())
        text = " ".join(reader.parts)
        assert MACHINE_DATE.findall(text) == [], url
        days += len(re.findall(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b", text))
    assert days > 50  # the check read the pages' dates (the orders list shows one per order)
