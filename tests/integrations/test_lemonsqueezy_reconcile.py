"""Lemon Squeezy's reconcile against a local fake of its API over real HTTP (JSON:API pages, one 429), and
deliveries through the real webhook view: an outage recovered exactly once, refunds re-read, ended
subscriptions repaired, and replays that change nothing."""

import datetime as dt

import pytest

from integrations.models import FirstSeenVia, Order, OrderKind, Subscription, SubscriptionStatus, WebhookEvent
from integrations.processors.registry import get_adapter
from integrations.services.ledger import change_apply
from integrations.services.webhooks import webhook_event_process
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.fake_lemonsqueezy import FakeLemonSqueezy
from tests.integrations.lemonsqueezy import encode, iso, payload, sign
from tests.integrations.reconciling import reconciler

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
TOKEN = "ls_api_key_fake_0001"
SECRET = "ls-signing-secret-7Qm2vR9t"


@pytest.fixture
def fake():
    with FakeLemonSqueezy(token=TOKEN) as server:
        yield server


@pytest.fixture
def connection(fake):
    return ProcessorConnectionFactory(
        processor="lemonsqueezy",
        api_base_url=fake.base_url,
        api_token=TOKEN,
        webhook_secret=SECRET,
        reconciled_through=NOW - dt.timedelta(days=3),
    )


reconcile = reconciler(NOW)


def seed(fake, count: int, since: dt.datetime):
    """A subscription bought with the first of `count` orders (its `initial` invoice too), renewed twice."""
    first = fake.add_order(created_at=since + dt.timedelta(minutes=5))
    subscription = fake.add_subscription(
        created_at=since + dt.timedelta(minutes=5, seconds=2), order_id=int(first["id"])
    )
    fake.add_invoice(
        subscription=subscription, created_at=since + dt.timedelta(minutes=5, seconds=1), billing_reason="initial"
    )
    orders = [first, *(fake.add_order(created_at=since + dt.timedelta(minutes=10 * i + 5)) for i in range(1, count))]
    renewals = [fake.add_invoice(subscription=subscription, created_at=since + dt.timedelta(hours=h)) for h in (30, 40)]
    return subscription, orders, renewals


def test_webhook_outage_is_recovered_exactly_once(fake, connection):
    subscription, orders, renewals = seed(fake, 230, NOW - dt.timedelta(days=2))
    fake.throttle.add(("orders", 2))
    sleeps = []

    run = reconcile(connection, sleeps)

    assert run.status == "succeeded", run.last_error
    expected = {o["id"] for o in orders} | {f"invoice-{r['id']}" for r in renewals}
    assert sorted(Order.objects.values_list("external_id", flat=True)) == sorted(
        expected
    )  # the initial invoice is its order
    assert set(Order.objects.values_list("first_seen_via", flat=True)) == {FirstSeenVia.POLL}
    assert (run.fetched, run.created, run.missed_by_webhook, run.errors) == (233, 233, 232, 0)
    assert sleeps == [2.0]  # the 429's Retry-After was honoured
    order_pages = [p for p in fake.requests if p.startswith("/v1/orders?")]
    assert len(order_pages) == 4  # 3 pages of 100 + the retry
    assert all("page%5Bsize%5D=100" in p for p in order_pages)
    first = Order.objects.get(external_id=orders[0]["id"])
    assert (first.kind, first.subscription.external_id) == (OrderKind.SUBSCRIPTION_CREATE, subscription["id"])
    assert {o.subscription_id for o in Order.objects.filter(kind=OrderKind.RENEWAL)} == {first.subscription_id}
    connection.refresh_from_db()
    assert connection.reconciled_through == NOW

    again = reconcile(connection)
    assert again.status == "succeeded"
    assert (again.created, again.updated, again.missed_by_webhook, again.errors) == (0, 0, 0, 0)
    assert Order.objects.count() == 232


def test_refunds_are_re_read_through_orders_and_invoices(fake, connection):
    since = NOW - dt.timedelta(days=3, hours=2)
    _, orders, renewals = seed(fake, 3, since)
    old = fake.add_order(created_at=since - dt.timedelta(days=20))  # placed long before the window,
    for i in range(100):  # and a full page of orders between them
        fake.add_order(created_at=since - dt.timedelta(hours=i + 1))
    reconcile(connection)

    fake.update(old, at=NOW - dt.timedelta(hours=1), refunded_amount=5880, status="refunded", refunded=True)
    fake.update(orders[1], at=NOW - dt.timedelta(hours=1), refunded_amount=2940, status="partial_refund", refunded=True)
    fake.update(renewals[0], at=NOW - dt.timedelta(hours=1), refunded_amount=5880, status="refunded", refunded=True)
    run = reconcile(connection)

    assert (run.created, run.updated) == (0, 3)
    assert Order.objects.get(external_id=old["id"]).refunded_minor == 4900
    assert Order.objects.get(external_id=orders[1]["id"]).status == "partially_refunded"
    assert Order.objects.get(external_id=f"invoice-{renewals[0]['id']}").refunded_minor == 4900


def test_only_the_connections_store_is_read(fake, connection):
    fake.add_order(created_at=NOW - dt.timedelta(hours=5))
    fake.add_order(created_at=NOW - dt.timedelta(hours=4), store_id=777)
    connection.options = {"store_id": "777"}
    connection.save()

    run = reconcile(connection)

    assert run.created == 1
    assert Order.objects.get().external_id == fake.orders[1]["id"]
    assert all("filter%5Bstore_id%5D=777" in p for p in fake.requests)


def test_a_subscription_that_expired_long_after_it_started_is_repaired(fake, connection):
    served = fake.add_subscription(created_at=NOW - dt.timedelta(days=200))
    (change,) = (
        get_adapter(connection)
        .parse_event(body=encode(payload("subscription_created") | {"data": served}), headers={})
        .changes
    )
    change_apply(connection=connection, change=change)
    ends = NOW - dt.timedelta(hours=3)
    fake.update(served, at=ends, status="expired", cancelled=True, ends_at=iso(ends))
    # A full page of newer expired ones, all from before the window: the walk stops before reaching it.
    for i in range(100):
        fake.add_subscription(created_at=NOW - dt.timedelta(days=150, hours=i), status="expired")

    run = reconcile(connection)

    assert run.status == "succeeded" and (run.created, run.updated) == (100, 1)
    subscription = Subscription.objects.get(external_id=served["id"])
    assert (subscription.status, subscription.ended_at) == (SubscriptionStatus.CANCELED, ends)
    assert f"/v1/subscriptions/{served['id']}" in fake.requests  # not listed: asked for by id


def test_a_bad_token_fails_the_run_clearly(fake, connection):
    connection.api_token = "wrong"
    connection.save()
    run = reconcile(connection)
    assert run.status == "failed" and run.last_error.startswith("Token rejected")


# --- through the webhook view ------------------------------------------------------------------------


def post(client, connection, body: bytes, headers: dict | None = None):
    return client.generic(
        "POST",
        f"/webhooks/lemonsqueezy/{connection.workspace.public_id}",
        body,
        content_type="application/json",
        headers=headers or sign(body, SECRET),
    )


def process_all():
    for event in WebhookEvent.objects.order_by("pk"):
        webhook_event_process(event_id=event.pk)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_same_body_delivered_three_times_counts_once(client, connection, dispatched):
    body = encode(payload("order_created"))
    assert [post(client, connection, body).status_code for _ in range(3)] == [202] * 3
    event = WebhookEvent.objects.get()
    assert event.event_type == "order_created"
    process_all()
    process_all()
    assert Order.objects.get().amount_minor == 4900


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_tampered_or_unsigned_delivery_is_refused(client, connection):
    body = encode(payload("order_created"))
    assert post(client, connection, body.replace(b"4900", b"1"), sign(body, SECRET)).status_code == 401
    assert post(client, connection, body, {"x-event-name": "order_created"}).status_code == 401
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_webhook_replayed_after_the_poll_changes_nothing(client, fake, connection, dispatched):
    _, orders, renewals = seed(fake, 3, NOW - dt.timedelta(days=1))
    reconcile(connection)
    before = {o.external_id: (o.updated_at, o.amount_minor, o.refunded_minor) for o in Order.objects.all()}

    # As sent from a dashboard link: no custom data, the resource the API lists.
    for served, name in ((orders[1], "order_created"), (renewals[0], "subscription_payment_success_renewal")):
        assert post(client, connection, encode(payload(name, custom_data={}) | {"data": served})).status_code == 202
    process_all()

    assert {o.external_id: (o.updated_at, o.amount_minor, o.refunded_minor) for o in Order.objects.all()} == before

    # One that carries custom data brings only what the API never returns: the visitor id.
    with_visitor = payload("order_created", custom_data={"trackrev_visitor_id": "v_late"}) | {"data": orders[2]}
    post(client, connection, encode(with_visitor))
    process_all()
    late = Order.objects.get(external_id=orders[2]["id"])
    assert (late.visitor_id, late.amount_minor, Order.objects.count()) == ("v_late", 4900, len(before))
