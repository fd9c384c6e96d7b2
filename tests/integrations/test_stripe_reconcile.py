"""Reconcile against a local fake Stripe API over real HTTP: outage recovery through `GET /v1/events` (cursor
pages, newest first, one 429), the object lists beyond the events' 30 days, Stripe's word on retrying, and
subscriptions that ended unseen."""

import datetime as dt

import pytest

from integrations.models import FirstSeenVia, MatchedBy, Order, OrderKind, ProcessorConnection, Refund, Subscription
from integrations.processors.errors import Failure, ProcessorRejected
from integrations.processors.http import HttpClient
from integrations.processors.registry import get_adapter
from integrations.processors.stripe import mapping
from integrations.services.webhooks import webhook_event_process
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.integrations.fake_stripe import FakeStripe
from tests.integrations.reconciling import reconciler
from tests.integrations.stripe import SECRET, TOKEN, unix

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def fake():
    with FakeStripe(token=TOKEN) as server:
        yield server


@pytest.fixture
def connection(fake):
    return ProcessorConnectionFactory(
        processor="stripe",
        api_base_url=fake.base_url,
        api_token=TOKEN,
        webhook_secret=SECRET,
        reconciled_through=NOW - dt.timedelta(days=3),
    )


reconcile = reconciler(NOW)


def seed(fake, since, *, subscriptions=150, one_time=60, renewals=20):
    """Subscription checkouts (the visitor on the session only), their first invoices, some renewals, one-time
    checkouts, and a refund of the first invoice: `subscriptions + one_time + renewals` orders."""
    invoices, sessions = [], []
    for i in range(subscriptions):
        at = since + dt.timedelta(minutes=10 * i + 5)
        subscription = fake.add_subscription(started=at + dt.timedelta(seconds=40))
        invoice = fake.add_invoice(created=at + dt.timedelta(seconds=40), subscription=subscription)
        subscription["latest_invoice"] = invoice["id"]
        fake.add_subscription_checkout(created=at, visitor=f"v_subscriber{i:08d}", subscription=subscription)
        invoices.append(invoice)
        if i < renewals:
            renewal_at = at + dt.timedelta(hours=12)
            invoices.append(
                fake.add_invoice(created=renewal_at, subscription=subscription, billing_reason="subscription_cycle")
            )
    for i in range(one_time):
        sessions.append(
            fake.add_one_time_checkout(created=since + dt.timedelta(minutes=7 * i + 3), visitor=f"v_buyer{i:011d}")
        )
    first = invoices[0]
    fake.add_refund(
        payment_intent=fake.payment_of(first), amount=2940, currency="eur", created=since + dt.timedelta(hours=30)
    )
    return invoices, sessions


def replay(connection, event: dict) -> None:
    stored = WebhookEventFactory(connection=connection, payload=event, delivery_id=event["id"])
    assert webhook_event_process(event_id=stored.pk).status != "failed"


def ledger() -> list[tuple]:
    return list(
        Order.objects.order_by("pk").values_list(
            "external_id", "status", "amount_minor", "refunded_minor", "visitor_id", "matched_by", "updated_at"
        )
    )


def test_webhook_outage_is_recovered_exactly_once(fake, connection):
    invoices, sessions = seed(fake, NOW - dt.timedelta(days=2))
    fake.throttle.add(("events", 2))
    sleeps = []

    run = reconcile(connection, sleeps)

    assert run.status == "succeeded", run.last_error
    expected = {i["id"] for i in invoices} | {s["payment_intent"] for s in sessions}
    assert Order.objects.count() == len(expected) == 230
    assert set(Order.objects.values_list("external_id", flat=True)) == expected
    assert set(Order.objects.values_list("first_seen_via", flat=True)) == {FirstSeenVia.POLL}
    assert run.missed_by_webhook == 230
    assert sleeps == [2.0]  # the 429's Retry-After, then the same page again
    event_pages = [path for path in fake.requests if path.startswith("/v1/events?")]
    assert len(event_pages) == 7  # 531 events, 100 a page: 6 pages + the retried one
    assert all(path.count("types%5B%5D=") == len(mapping.EVENTS) for path in event_pages)
    # Every subscription sale and renewal is credited to the visitor of the checkout that started it.
    subscription_orders = Order.objects.exclude(kind=OrderKind.ONE_TIME)
    assert subscription_orders.filter(matched_by=MatchedBy.SUBSCRIPTION).count() == 170
    renewal = Order.objects.get(external_id=invoices[1]["id"])
    assert (renewal.kind, renewal.visitor_id) == (OrderKind.RENEWAL, "v_subscriber00000000")
    assert Order.objects.get(external_id=invoices[0]["id"]).refunded_minor == 2450  # net of tax
    assert Subscription.objects.count() == 150
    connection.refresh_from_db()
    assert connection.reconciled_through == NOW

    before = ledger()
    again = reconcile(connection)
    assert again.status == "succeeded"
    assert (again.created, again.updated, again.missed_by_webhook) == (0, 0, 0)
    assert ledger() == before

    for event in fake.events:  # the webhooks, late: nothing changes
        replay(connection, event)
    assert ledger() == before
    assert Refund.objects.count() == 1


def test_orders_a_webhook_delivered_are_not_missed(fake, connection):
    invoices, _ = seed(fake, NOW - dt.timedelta(days=1), subscriptions=3, one_time=0, renewals=0)
    replay(connection, next(e for e in fake.events if e["data"]["object"]["id"] == invoices[1]["id"]))

    run = reconcile(connection)
    assert run.missed_by_webhook == 2
    assert Order.objects.get(external_id=invoices[1]["id"]).first_seen_via == FirstSeenVia.WEBHOOK


def test_a_new_connection_backfills_90_days_from_the_object_lists(fake, connection):
    ProcessorConnection.objects.filter(pk=connection.pk).update(reconciled_through=None)
    fake.events.clear()  # Stripe keeps events 30 days: older objects are only in their lists
    invoices, _ = seed(fake, NOW - dt.timedelta(days=60), subscriptions=120, one_time=30, renewals=0)
    fake.events.clear()
    fake.add_one_time_checkout(created=NOW - dt.timedelta(days=91), visitor="v_too_old_000000001")

    run = reconcile(connection)

    assert run.status == "succeeded", run.last_error
    assert run.window_start == NOW - dt.timedelta(days=90)
    assert Order.objects.count() == 150
    assert not [path for path in fake.requests if path.startswith("/v1/events?")]
    assert Order.objects.filter(matched_by=MatchedBy.SUBSCRIPTION).count() == 120
    assert Order.objects.get(external_id=invoices[0]["id"]).refunded_minor == 2450
    assert run.pages >= 2

    before = ledger()
    assert reconcile(connection).created == 0  # now within the events' reach
    assert ledger() == before


def test_a_failure_stripe_says_not_to_retry_is_not_retried(fake, connection):
    fake.failing.add("events")
    fake.should_retry = "false"

    run = reconcile(connection)

    assert (run.status, run.last_error) == ("failed", Failure.PROCESSOR_ERROR)
    assert len([path for path in fake.requests if path.startswith("/v1/events?")]) == 1


def test_a_failure_stripe_may_retry_is_retried(fake, connection):
    fake.failing.add("events")
    fake.should_retry = "true"

    assert reconcile(connection).status == "failed"
    assert len([path for path in fake.requests if path.startswith("/v1/events?")]) == 4  # HttpClient's attempts


def test_every_request_pins_the_api_version(fake, connection):
    unpinned = HttpClient(base_url=fake.base_url, token=TOKEN)
    with pytest.raises(ProcessorRejected) as error:
        unpinned.get_json("events")
    assert error.value.status_code == 400
    get_adapter(connection).check_credentials()


def test_a_subscription_that_ended_unseen_before_the_events_reach_is_asked_for_again(fake, connection):
    served = fake.add_subscription(started=NOW - dt.timedelta(days=200))
    replay(connection, fake.events[-1])
    assert Subscription.objects.get().status == "active"
    fake.events.clear()  # its deletion is older than the events the API keeps
    ended = unix(NOW - dt.timedelta(days=40))
    served.update(status="canceled", canceled_at=ended, ended_at=ended)

    run = reconcile(connection)

    assert (Subscription.objects.get().status, run.updated, run.status) == ("canceled", 1, "succeeded")
    assert f"/v1/subscriptions/{served['id']}" in fake.requests


def test_states_with_one_timestamp_end_in_the_latest_events(fake, connection):
    """A renewal's failed payment makes the subscription past due within the period that made it active again:
    both states carry the same timestamps, so only the order of their events tells them apart. Stripe lists
    events newest first; the poll applies them oldest first."""
    served = fake.add_subscription(started=NOW - dt.timedelta(days=40))
    renewed = NOW - dt.timedelta(days=1)
    served["items"]["data"][0].update(
        current_period_start=unix(renewed), current_period_end=unix(renewed + dt.timedelta(days=30))
    )
    fake.add_event("customer.subscription.updated", served, renewed + dt.timedelta(seconds=1))
    served["status"] = "past_due"
    fake.add_event("customer.subscription.updated", served, renewed + dt.timedelta(hours=1))

    reconcile(connection)

    assert Subscription.objects.get().status == "past_due"
