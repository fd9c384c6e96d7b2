"""Reconcile against a local fake of Paddle Billing's API over real HTTP: outage recovery with cursor
pagination and a 429, the watermark, refunds approved late, subscriptions that ended unseen."""

import datetime as dt

import pytest

from integrations.models import FirstSeenVia, Order, Refund, Subscription
from integrations.processors.registry import get_adapter
from integrations.services.ledger import change_apply
from integrations.services.reconcile import OVERLAP
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.fake_paddle import FakePaddle
from tests.integrations.paddle import encode, iso, payload
from tests.integrations.reconciling import reconciler
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
TOKEN = "pdl_live_apikey_01jh2k0a1b2c3d4e5f6g7h8j9k_fake"
WATERMARK = NOW - dt.timedelta(days=3)


@pytest.fixture
def fake():
    with FakePaddle(token=TOKEN) as server:
        yield server


@pytest.fixture
def connection(fake):
    return ProcessorConnectionFactory(
        processor="paddle", api_base_url=fake.base_url, api_token=TOKEN, reconciled_through=WATERMARK
    )


reconcile = reconciler(NOW)


def seed(fake, count: int, since: dt.datetime):
    subscription = fake.add_subscription(started_at=since + dt.timedelta(hours=1))
    transactions = []
    for i in range(count):
        fields = {"custom_data": {"trackrev_visitor_id": f"v_{i}"}}
        if i == 0:
            fields["subscription_id"] = subscription["id"]
        transactions.append(fake.add_transaction(updated_at=since + dt.timedelta(minutes=10 * i + 5), **fields))
    return subscription, transactions


def webhook(event_type: str, data: dict):
    adapter = get_adapter(ProcessorConnectionFactory.build(processor="paddle"))
    (change,) = adapter.parse_event(body=encode({**payload(event_type), "data": data}), headers={}).changes
    return change


def listed(fake, resource: str) -> list[str]:
    return [path for path in fake.requests if path.startswith(f"/{resource}?")]


def test_webhook_outage_is_recovered_exactly_once(fake, connection):
    subscription, transactions = seed(fake, 250, NOW - dt.timedelta(days=2))
    refunded = transactions[3]
    fake.add_adjustment(transaction=refunded, created_at=NOW - dt.timedelta(hours=1))
    fake.add_adjustment(
        transaction=transactions[4], created_at=NOW - dt.timedelta(minutes=30), status="pending_approval"
    )
    fake.throttle.add(("transactions", 2))
    sleeps = []

    run = reconcile(connection, sleeps)

    assert run.status == "succeeded", run.last_error
    assert set(Order.objects.values_list("external_id", flat=True)) == {t["id"] for t in transactions}
    assert set(Order.objects.values_list("first_seen_via", flat=True)) == {FirstSeenVia.POLL}
    assert (run.fetched, run.created, run.missed_by_webhook, run.errors) == (252, 252, 250, 0)
    assert sleeps == [3.0]  # the 429's Retry-After
    assert len(listed(fake, "transactions")) == 3  # two pages of 200, one asked again
    assert Order.objects.get(external_id=refunded["id"]).refunded_minor == 4900
    assert Refund.objects.get().external_id.startswith("adj_")  # the pending one books nothing
    first = Order.objects.get(external_id=transactions[0]["id"])
    assert (first.kind, first.subscription) == ("subscription_create", Subscription.objects.get())
    # The transactions were listed with their customers: every order has its buyer's email.
    assert first.customer_email_digest == email_digest("buyer0@example.com")
    assert not Order.objects.filter(customer_email_digest="").exists()
    connection.refresh_from_db()
    assert connection.reconciled_through == NOW

    again = reconcile(connection)
    assert again.status == "succeeded"
    assert (again.created, again.updated, again.missed_by_webhook) == (0, 0, 0)
    assert Order.objects.count() == 250 and Refund.objects.count() == 1

    # A webhook delivered late (its retries) changes nothing the poll already holds.
    before = dict(Order.objects.values_list("external_id", "updated_at"))
    replayed = [webhook("transaction.completed", t) for t in transactions[:5]]
    replayed.append(webhook("subscription.activated", subscription))
    results = [change_apply(connection=connection, change=change) for change in replayed]
    assert not any(result.created or result.changed for result in results)
    assert dict(Order.objects.values_list("external_id", "updated_at")) == before


def test_orders_seen_by_webhook_are_not_missed(fake, connection):
    _, transactions = seed(fake, 3, NOW - dt.timedelta(days=1))
    change_apply(connection=connection, change=webhook("transaction.completed", transactions[1]))

    run = reconcile(connection)

    assert (run.created, run.missed_by_webhook) == (3, 2)  # the subscription + 2 orders
    seen = Order.objects.get(external_id=transactions[1]["id"])
    assert seen.first_seen_via == FirstSeenVia.WEBHOOK
    assert seen.customer_email_digest  # the listing brought the email the webhook lacked


def test_the_window_is_the_watermark_minus_the_overlap_on_updated_at(fake, connection):
    fake.add_transaction(updated_at=WATERMARK - OVERLAP + dt.timedelta(minutes=5))
    fake.add_transaction(updated_at=WATERMARK - OVERLAP - dt.timedelta(minutes=5))  # already reconciled
    old_sale_refunded_now = fake.add_transaction(
        updated_at=NOW - dt.timedelta(days=1), created_at=iso(NOW - dt.timedelta(days=40))
    )
    run = reconcile(connection)
    assert run.window_start == WATERMARK - OVERLAP
    assert Order.objects.count() == 2
    assert Order.objects.filter(external_id=old_sale_refunded_now["id"]).exists()
    (request,) = listed(fake, "transactions")
    assert "updated_at%5BGT%5D=" in request and "include=customer" in request


def test_a_refund_asked_for_before_the_window_and_approved_inside_it_is_booked(fake, connection):
    """Adjustments have no date filter: they are read back past the window by Paddle's review time."""
    sale = fake.add_transaction(updated_at=WATERMARK - dt.timedelta(days=10))
    change_apply(connection=connection, change=webhook("transaction.completed", sale))
    asked = WATERMARK - dt.timedelta(days=8)
    fake.add_adjustment(transaction=sale, created_at=asked, updated_at=iso(NOW - dt.timedelta(hours=1)))
    for i in range(200):  # a page of later adjustments, all from before the window
        fake.add_adjustment(transaction=sale, created_at=asked + dt.timedelta(hours=i // 2 + 1), action="credit")

    run = reconcile(connection)

    assert run.status == "succeeded"
    assert len(listed(fake, "adjustments")) == 2
    assert Order.objects.get().refunded_minor == 4900


def test_adjustments_are_read_newest_first_only_back_to_the_review_horizon(fake, connection):
    sale = fake.add_transaction(updated_at=NOW - dt.timedelta(days=1))
    for day in range(450):  # one a day, a page of 200 at a time, newest first
        fake.add_adjustment(transaction=sale, created_at=NOW - dt.timedelta(days=450 - day), action="credit")

    run = reconcile(connection)

    assert run.status == "succeeded"
    assert len(listed(fake, "adjustments")) == 1  # its first page already reaches past the horizon


def test_a_subscription_that_ended_unseen_is_asked_for_again(fake, connection):
    served = fake.add_subscription(started_at=NOW - dt.timedelta(days=60))
    change_apply(connection=connection, change=webhook("subscription.activated", served))
    served.update(
        status="canceled",
        canceled_at=iso(NOW - dt.timedelta(days=1)),
        updated_at=iso(NOW - dt.timedelta(days=1)),
        current_billing_period=None,
    )

    run = reconcile(connection)

    assert run.status == "succeeded"
    assert Subscription.objects.get().status == "canceled"
    assert f"/subscriptions/{served['id']}" in fake.requests
    (request,) = listed(fake, "subscriptions")
    assert "status=active%2Cpast_due%2Cpaused%2Ctrialing" in request


def test_a_bad_token_fails_the_run_clearly(fake, connection):
    connection.api_token = "pdl_live_apikey_revoked"
    connection.save()
    run = reconcile(connection)
    assert run.status == "failed"
    assert "Token rejected" in run.last_error


def test_a_key_missing_a_permission_is_told_apart_from_a_bad_one(fake, connection):
    fake.forbidden.add("adjustments")
    run = reconcile(connection)
    assert run.status == "failed"
    assert "Permission missing" in run.last_error
