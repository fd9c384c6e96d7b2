"""The back office (the Django admin): every registered model's screens open with rows present, in a
number of queries that does not grow with the rows; no secret is ever rendered; every action goes through
its service, is recorded in the admin log and is refused to people who may not change the model; the
overview page shows the figures staff look at first, to staff only."""

import datetime as dt
import itertools

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from pyroaring import BitMap

from affiliates.models import Click, Link, PayoutSettings
from attribution.models import AttributionState, ChannelRule, RecomputeRun, VisitorSetDay
from attribution.services.credits import order_credits_refresh
from integrations.models import (
    Customer,
    Delivery,
    DeliveryAttempt,
    ExchangeRate,
    Refund,
    SyncRun,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.services.outbound_webhooks import endpoint_create, endpoint_test_send
from tests.factories.affiliates import CommissionFactory, DiscountCodeFactory, PartnerFactory, PayoutFactory
from tests.factories.engine import IdentityFactory, OrderFactory, SubscriptionFactory, TouchFactory
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.factories.workspaces import MembershipFactory, UserFactory
from trackrev.common.crypto import EncryptedTextField
from trackrev.health.models import Heartbeat
from trackrev.outbox.models import Notification
from trackrev.workspaces.models import UsageDay, UsageMonth
from trackrev.workspaces.services import api_key_create
from trackrev.workspaces.usage import month_start

pytestmark = pytest.mark.django_db

PAYPAL_SECRET = "EJx-paypal-secret-never-shown"
_n = itertools.count()


def seed() -> None:
    """One row (at least) of every model the admin shows, as the code writes them. A newly registered
    model without a row here fails `test_every_screen_opens_…`: add it."""
    n = next(_n)
    member = MembershipFactory()
    workspace = member.workspace
    Group.objects.create(name=f"Support {n}")
    api_key_create(workspace=workspace, name=f"key {n}", created_by=member.user)
    UsageMonth.objects.create(workspace=workspace, month=month_start(), events=100 + n, last_event_at=timezone.now())
    UsageDay.objects.create(workspace=workspace, day=month_start(), events=100 + n)
    Heartbeat.objects.create(name=f"job {n}", last_run_at=timezone.now())
    Notification.objects.create(task="tests.consumer", subject_id=n, version=1, attempts=10, last_error="Traceback")

    conn = ProcessorConnectionFactory(workspace=workspace)
    SyncRun.objects.create(workspace=workspace, connection=conn, status="failed", last_error="Unauthorized")
    ExchangeRate.objects.create(date=dt.date(2026, 1, 1) + dt.timedelta(days=n), currency="EUR", rate="1.1")
    customer = Customer.objects.create(
        workspace=workspace, connection=conn, external_id=f"cus_{n}", source_updated_at=timezone.now()
    )
    subscription = SubscriptionFactory(workspace=workspace, connection=conn, customer=customer)
    order = OrderFactory(workspace=workspace, connection=conn, subscription=subscription, customer=customer)
    Refund.objects.create(
        workspace=workspace,
        connection=conn,
        external_id=f"re_{n}",
        order_external_id=order.external_id,
        order=order,
        status="succeeded",
        amount_minor=100,
        currency="USD",
        refunded_at=timezone.now(),
        source_updated_at=timezone.now(),
    )
    WebhookEventFactory(connection=conn, payload={"type": "order.paid", "data": {"id": order.external_id}})
    endpoint, _ = endpoint_create(workspace=workspace, url="https://93.184.216.34/hooks", events=["sale.created"])
    endpoint_test_send(endpoint=endpoint)
    DeliveryAttempt.objects.create(
        delivery=Delivery.objects.get(endpoint=endpoint), attempted_at=timezone.now(), status_code=500, excerpt="down"
    )

    TouchFactory(workspace=workspace, visitor_id=f"vis_{n}", channel="Google")
    IdentityFactory(workspace=workspace, visitor_id=f"vis_{n}")
    ChannelRule.objects.create(
        workspace=workspace, field="source", value="beehiiv", channel="Newsletter", channel_group="Email"
    )
    OrderFactory._meta.model.objects.filter(pk=order.pk).update(visitor_id=f"vis_{n}")
    order_credits_refresh(order_id=order.pk)  # credits, rollups, the match, the attribution state
    RecomputeRun.objects.create(workspace=workspace, version=2, lookback_days=30, timezone="UTC", last_error="Boom")
    VisitorSetDay.objects.create(
        workspace=workspace,
        day=dt.date(2026, 11, 1),
        channel="Google",
        channel_group="Search",
        visitors=BitMap([1, 2]).serialize(),
    )

    partner = PartnerFactory(program__workspace=workspace)
    Link.objects.create(workspace=workspace, partner=partner, slug="pricing", url="https://shop.example.com/p")
    Click.objects.create(
        workspace=workspace, partner=partner, ip_digest="d", hour=timezone.now(), occurred_at=timezone.now()
    )
    PayoutSettings.objects.create(workspace=workspace, paypal_client_id="AZclient", paypal_client_secret=PAYPAL_SECRET)
    DiscountCodeFactory(partner=partner)
    payout = PayoutFactory(partner=partner)
    CommissionFactory(partner=partner, status="approved", payout=payout)

    every = IntervalSchedule.objects.create(every=n + 1, period="minutes")
    CrontabSchedule.objects.create(minute=str(n % 60))
    SolarSchedule.objects.create(event="sunrise", latitude=n % 90, longitude=0)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    PeriodicTask.objects.create(name=f"tests periodic {n}", task="trackrev.heartbeat", interval=every)
    LogEntry.objects.log_actions(user_id=member.user_id, queryset=[workspace], action_flag=2, change_message="Seeded")


REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _url(model, view: str, *args) -> str:
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _secrets() -> set[str]:
    """Every stored secret, as plaintext and as stored: encrypted fields (found by introspection, as
    key rotation finds them), password hashes and API key digests."""
    from django.apps import apps

    found = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.update(v for v in model.objects.values_list(field.name, flat=True) if v)
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {field.column} FROM {model._meta.db_table}")  # noqa: S608 — our names
                    found.update(raw for (raw,) in cursor.fetchall() if raw)
            elif field.name in ("password", "digest") and model._meta.app_label in ("workspaces", "affiliates"):
                found.update(v for v in model.objects.values_list(field.name, flat=True) if v)
    return found


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_screen_opens_with_rows_and_never_shows_a_secret(superuser_client):
    seed()
    secrets = _secrets()
    assert PAYPAL_SECRET in secrets and len(secrets) > 5

    failures = {}
    for model in REGISTERED:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            failures[model._meta.label] = "no row: seed one in seed()"
            continue
        for url in (_url(model, "changelist"), _url(model, "change", obj.pk)):
            response = superuser_client.get(url)
            page = response.content.decode()
            if response.status_code != 200:
                failures[url] = response.status_code
            elif leaked := [secret[:8] for secret in secrets if secret in page]:
                failures[url] = f"shows secrets {leaked}"

    assert failures == {}


def _changelist_queries(client) -> dict[str, int]:
    counts = {}
    for model in REGISTERED:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(model, "changelist")).status_code == 200
        counts[model._meta.label] = len(queries)
    return counts


def test_no_changelist_runs_more_queries_for_more_rows(superuser_client):
    """An N+1 (a column reading a relation per row) shows as more queries with three rows than with one."""
    seed()
    one_row = _changelist_queries(superuser_client)
    seed()
    seed()
    three_rows = _changelist_queries(superuser_client)

    assert {label: (one_row[label], n) for label, n in three_rows.items() if n > one_row[label]} == {}


def test_every_action_needs_the_models_change_permission():
    """Actions change rows (through the services): none is left to anyone who may only look."""
    ungated = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name, (func, *_) in model_admin.get_actions(_superuser_request()).items()
        if name != "delete_selected" and not set(getattr(func, "allowed_permissions", ())) & {"change", "operate"}
    ]

    assert ungated == []


def _superuser_request():
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


# --- Actions ---------------------------------------------------------------------------------------


def _act(client, model, action: str, objs):
    data = {"action": action, "_selected_action": [str(obj.pk) for obj in objs]}
    return client.post(_url(model, "changelist"), data, follow=True)


def _log(obj) -> list[str]:
    """The admin log's change messages for `obj`."""
    from django.contrib.contenttypes.models import ContentType

    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
    return list(entries.order_by("pk").values_list("change_message", flat=True))


def test_reprocess_queues_the_delivery_through_the_outbox_and_logs_it(superuser_client, broker, committed):
    from integrations.services.webhooks import REPROCESS_TASK

    event = WebhookEventFactory(status="failed", attempts=8, last_error="Traceback: KeyError 'data'")

    with committed():
        page = _act(superuser_client, WebhookEvent, "reprocess", [event]).content.decode()

    event.refresh_from_db()
    assert (event.status, event.last_error) == ("received", "")
    notification = Notification.objects.get(task=REPROCESS_TASK, subject_id=event.pk)
    assert broker.sent == [("trackrev.outbox_deliver", [[notification.pk]])]
    assert "Queued 1 deliveries for processing." in page
    assert _log(event) == ["Action: Reprocess."]


def test_resync_queues_a_reconcile_run_and_names_the_connection_it_refuses(superuser_client, broker, committed):
    from integrations.models import ProcessorConnection
    from integrations.services.reconcile import RECONCILE_TASK

    live = ProcessorConnectionFactory()
    demo = ProcessorConnectionFactory(is_demo=True)

    with committed():
        page = _act(superuser_client, ProcessorConnection, "resync", [live, demo]).content.decode()

    run = SyncRun.objects.get()
    assert (run.connection, run.kind, run.status) == (live, "reconcile", "queued")
    assert Notification.objects.filter(task=RECONCILE_TASK, subject_id=run.pk).exists()
    assert broker.names() == ["trackrev.outbox_deliver"]
    assert "Resync: 1 done." in page and "Demo connection: nothing to sync" in page
    assert (_log(live), _log(demo)) == (["Action: Resync."], [])


def test_recompute_builds_the_workspaces_next_credits_version(superuser_client, broker, committed):
    order = OrderFactory(visitor_id="vis_1")
    TouchFactory(workspace=order.workspace, visitor_id="vis_1", occurred_at=order.placed_at, channel="Google")
    order_credits_refresh(order_id=order.pk)
    state = AttributionState.objects.get(workspace=order.workspace)

    with committed():
        page = _act(superuser_client, AttributionState, "recompute", [state]).content.decode()
    broker.run()

    run = RecomputeRun.objects.get(workspace=order.workspace)
    assert (run.status, run.reason, run.total) == ("succeeded", "Requested by staff", 1)
    assert AttributionState.objects.get(pk=state.pk).version == run.version == state.version + 1
    assert "Recompute: 1 done." in page
    assert _log(state) == ["Action: Recompute."]


def test_hold_release_and_approve_a_commission_through_the_engine(superuser_client):
    from affiliates.models import Commission

    partner = PartnerFactory()
    code = DiscountCodeFactory(partner=partner).code
    placed = timezone.now() - dt.timedelta(days=2)
    order = OrderFactory(workspace=partner.workspace, placed_at=placed, discount_codes=[code])
    commission = CommissionFactory(partner=partner, order=order, hold_until=placed + dt.timedelta(days=30))

    statuses = []
    for action in ("review_held", "review_released", "review_approved_early"):
        _act(superuser_client, Commission, action, [commission])
        statuses.append(Commission.objects.get(pk=commission.pk).status)

    assert statuses == ["held", "pending", "approved"]
    assert _log(commission) == ["Action: Hold.", "Action: Release.", "Action: Approve early."]


def test_mark_paid_pays_a_manual_payout_and_its_commissions_and_logs_only_that(superuser_client):
    from affiliates.models import Commission, Payout

    manual = PayoutFactory()
    commission = CommissionFactory(partner=manual.partner, status="approved", payout=manual)
    paypal = PayoutFactory(partner=PartnerFactory(payout_method="paypal"), method="paypal")

    page = _act(superuser_client, Payout, "mark_paid", [manual, paypal]).content.decode()

    assert (
        Payout.objects.get(pk=manual.pk).status == "paid" and Commission.objects.get(pk=commission.pk).status == "paid"
    )
    assert Payout.objects.get(pk=paypal.pk).status == "pending"
    assert "Mark paid: 1 done." in page and "Only manual payouts are marked paid by hand" in page
    assert (_log(manual), _log(paypal)) == (["Action: Mark paid."], [])


def test_retry_sends_a_notification_that_gave_up_again(superuser_client, broker, committed):
    gave_up = Notification.objects.create(task="tests.consumer", subject_id=7, version=1, attempts=10, due_at=None)

    with committed():
        page = _act(superuser_client, Notification, "retry", [gave_up]).content.decode()

    gave_up.refresh_from_db()
    assert gave_up.attempts == 0 and gave_up.due_at is not None
    assert broker.sent == [("trackrev.outbox_deliver", [[gave_up.pk]])]
    assert "Sent 1 notifications again." in page
    assert _log(gave_up) == ["Action: Deliver again now."]


def test_resend_queues_a_failed_delivery_again(superuser_client, broker, committed):
    endpoint, _ = endpoint_create(
        workspace=MembershipFactory().workspace, url="https://93.184.216.34/hooks", events=["sale.created"]
    )
    endpoint_test_send(endpoint=endpoint)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None, last_error="HTTP 500")
    broker.sent.clear()

    with committed():
        page = _act(superuser_client, Delivery, "resend", [delivery]).content.decode()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("pending", "") and delivery.next_attempt_at is not None
    assert broker.sent == [("integrations.webhook_deliveries_send", [[delivery.pk]])]
    assert "Resend: 1 done." in page and _log(delivery) == ["Action: Resend."]


def test_disable_and_enable_an_endpoint(superuser_client):
    endpoint, _ = endpoint_create(
        workspace=MembershipFactory().workspace, url="https://93.184.216.34/hooks", events=["sale.created"]
    )
    _act(superuser_client, WebhookEndpoint, "disable", [endpoint])
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.disabled_reason) == ("disabled", "Disabled by TrackRev staff.")
    _act(superuser_client, WebhookEndpoint, "enable", [endpoint])
    endpoint.refresh_from_db()
    assert endpoint.status == "active" and _log(endpoint) == ["Action: Disable.", "Action: Enable."]


def _actions() -> list[tuple[type, str]]:
    request = _superuser_request()
    return [
        (model, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
        if name != "delete_selected"
    ]


def _state() -> dict[str, list]:
    return {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in REGISTERED}


def test_people_who_may_not_change_a_model_cannot_run_its_actions(client):
    """Neither a member who is not staff (sent to the admin's login) nor staff who may only look (the
    action is not offered, and posting it changes nothing)."""
    seed()
    actions = _actions()
    assert len(actions) >= 15
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    member = MembershipFactory().user
    before = _state()

    offered, ran = [], []
    client.force_login(member)
    for model, action in actions:
        response = _act(client, model, action, model._default_manager.all())
        if response.redirect_chain[0][0] != f"/admin/login/?next={_url(model, 'changelist')}":
            ran.append(f"member: {model._meta.label}.{action}")
    client.force_login(viewer)
    for model, action in actions:
        if f'value="{action}"' in client.get(_url(model, "changelist")).content.decode():
            offered.append(f"{model._meta.label}.{action}")
        _act(client, model, action, model._default_manager.all())

    assert (offered, ran) == ([], [])
    after = _state()
    after["workspaces.User"] = before["workspaces.User"]  # last_login of the two logins above
    assert after == before


# --- The overview ----------------------------------------------------------------------------------


def _figures(page: str) -> dict[str, tuple[str, str]]:
    """Each line of the overview: label → (its figure and note, its link)."""
    import re

    rows = re.findall(r'<th scope="row">(?:<a href="([^"]*)">)?([^<]*)(?:</a>)?</th>\s*<td>([^<]*)</td>', page)
    return {label: (figure.strip(), url.replace("&amp;", "&")) for url, label, figure in rows}


def test_the_overview_shows_plans_events_failing_connections_the_stuck_inbox_and_the_outbox(superuser_client):
    from integrations.models import ProcessorConnection
    from tests.factories.workspaces import WorkspaceFactory

    busy, quiet = WorkspaceFactory(name="Busy SaaS"), WorkspaceFactory(name="Quiet SaaS", plan="pro")
    this_month = month_start()
    UsageMonth.objects.create(workspace=busy, month=this_month, events=1200)
    UsageMonth.objects.create(workspace=quiet, month=this_month, events=34)
    UsageMonth.objects.create(workspace=quiet, month=this_month - dt.timedelta(days=40), events=999)  # not counted
    failing = ProcessorConnectionFactory(workspace=busy)
    SyncRun.objects.create(workspace=busy, connection=failing, status="failed", finished_at=timezone.now())
    healthy = ProcessorConnectionFactory(workspace=quiet)
    SyncRun.objects.create(workspace=quiet, connection=healthy, status="succeeded", finished_at=timezone.now())
    waiting = WebhookEventFactory(connection=healthy)
    WebhookEventFactory(connection=healthy)  # just arrived: not stuck
    WebhookEvent.objects.filter(pk=waiting.pk).update(received_at=timezone.now() - dt.timedelta(minutes=10))
    WebhookEventFactory(connection=failing, status="failed", retry_at=timezone.now())
    Notification.objects.create(task="tests.consumer", subject_id=1, version=1, due_at=None, attempts=10)
    Notification.objects.create(task="tests.consumer", subject_id=2, version=1, due_at=timezone.now())

    figures = _figures(superuser_client.get("/admin/overview/").content.decode())

    assert figures["Free"] == ("1", "/admin/workspaces/workspace/?plan__exact=free")
    assert figures["Pro"] == ("1", "/admin/workspaces/workspace/?plan__exact=pro")
    assert figures["All workspaces"] == ("1,234", "")
    assert figures["Busy SaaS"] == ("1,200", f"/admin/workspaces/workspace/{busy.pk}/change/")
    assert figures["Quiet SaaS"][0] == "34"
    assert figures[str(failing)] == (
        "last sync failed; 1 deliveries failed in the last day",
        f"/admin/integrations/processorconnection/{failing.pk}/change/",
    )
    assert str(healthy) not in figures
    assert figures["Received, unprocessed after 3 minutes"] == ("1", "/admin/integrations/webhookevent/?stuck=waiting")
    assert figures["Failed"] == ("1 (1 will be retried)", "/admin/integrations/webhookevent/?status__exact=failed")
    assert figures["Gave up"] == ("1", "/admin/outbox/notification/?state=gave_up")
    assert figures["Overdue (due, not sent)"] == ("1", "/admin/outbox/notification/?state=overdue")

    # Each figure's link lists exactly its rows.
    connections = superuser_client.get("/admin/integrations/processorconnection/?health=failing").context["cl"]
    assert list(connections.result_list) == [ProcessorConnection.objects.get(pk=failing.pk)]
    inbox = superuser_client.get("/admin/integrations/webhookevent/?stuck=waiting").context["cl"]
    assert [event.pk for event in inbox.result_list] == [waiting.pk]
    gave_up = superuser_client.get("/admin/outbox/notification/?state=gave_up").context["cl"]
    assert [n.subject_id for n in gave_up.result_list] == [1]


def test_the_overview_says_so_when_nothing_fails_and_the_index_links_to_it(superuser_client):
    page = superuser_client.get("/admin/overview/").content.decode()
    index = superuser_client.get("/admin/").content.decode()

    assert "No connection is failing." in page and "<title>Overview | TrackRev back office</title>" in page
    assert '<a href="/admin/overview/">Overview</a>' in index


def test_the_overview_is_for_staff_only(client):
    anonymous = client.get("/admin/overview/")
    client.force_login(MembershipFactory().user)
    member = client.get("/admin/overview/")

    assert anonymous.status_code == member.status_code == 302
    assert member["Location"] == "/admin/login/?next=/admin/overview/"
