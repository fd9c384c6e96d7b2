"""Reconcile against a local fake Polar API: outage recovery, pagination, 429, watermark, one run at a time."""

import datetime as dt

import pytest
import time_machine

from integrations.models import (
    FirstSeenVia,
    Order,
    ProcessorConnection,
    Refund,
    Subscription,
    SubscriptionStatus,
    SyncRun,
)
from integrations.models.ledger import TERMINAL_SUBSCRIPTION_STATUSES
from integrations.processors.base import Repair
from integrations.processors.errors import Failure
from integrations.processors.polar import mapping
from integrations.processors.polar.adapter import OPEN_SUBSCRIPTION_STATUSES, PolarAdapter
from integrations.services.ledger import change_apply
from integrations.services.reconcile import sync_run_execute
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.fake_polar import FakePolar, iso
from tests.integrations.polar import payload
from tests.integrations.reconciling import reconciler

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
TOKEN = "polar_oat_fake_token_0001"


@pytest.fixture
def fake():
    with FakePolar(token=TOKEN) as server:
        yield server


@pytest.fixture
def connection(fake):
    return ProcessorConnectionFactory(
        api_base_url=fake.base_url, api_token=TOKEN, reconciled_through=NOW - dt.timedelta(days=3)
    )


reconcile = reconciler(NOW)


def seed(fake, count, since):
    subscription = fake.add_subscription(started_at=since + dt.timedelta(hours=1))
    orders = []
    for i in range(count):
        fields = {"metadata": {"trackrev_visitor_id": f"v_{i}"}}
        if i == 0:
            fields.update(billing_reason="subscription_create", subscription_id=subscription["id"])
        orders.append(fake.add_order(created_at=since + dt.timedelta(minutes=10 * i + 5), **fields))
    return subscription, orders


def test_webhook_outage_is_recovered_exactly_once(fake, connection):
    _, orders = seed(fake, 250, NOW - dt.timedelta(days=2))
    fake.add_refund(order=orders[3], created_at=NOW - dt.timedelta(hours=1))
    fake.throttle.add(("orders", 2))
    sleeps = []

    run = reconcile(connection, sleeps)

    assert run.status == "succeeded", run.last_error
    assert Order.objects.count() == 250
    assert set(Order.objects.values_list("external_id", flat=True)) == {o["id"] for o in orders}
    assert set(Order.objects.values_list("first_seen_via", flat=True)) == {FirstSeenVia.POLL}
    assert (run.fetched, run.created, run.missed_by_webhook, run.errors) == (252, 252, 250, 0)
    assert sleeps == [2.0]  # the 429's retry-after was honoured
    assert [p for p in fake.requests if "/orders/" in p and "limit=100" in p].__len__() == 4  # 3 pages + 1 retry
    assert Order.objects.get(external_id=orders[3]["id"]).refunded_minor == orders[3]["net_amount"]
    assert Order.objects.get(external_id=orders[0]["id"]).subscription == Subscription.objects.get()
    connection.refresh_from_db()
    assert connection.reconciled_through == NOW

    again = reconcile(connection)
    assert again.status == "succeeded"
    assert (again.created, again.updated, again.missed_by_webhook) == (0, 0, 0)
    assert again.fetched > 0
    assert Order.objects.count() == 250
    assert Refund.objects.count() == 1


def test_orders_seen_by_webhook_are_not_missed(fake, connection):
    _, orders = seed(fake, 3, NOW - dt.timedelta(days=1))
    body = payload("order_created_purchase")
    body["data"] = dict(orders[1])
    (change,) = mapping.event_from(body).changes
    change_apply(connection=connection, change=change)

    run = reconcile(connection)
    assert (run.created, run.missed_by_webhook) == (3, 2)  # the subscription + 2 orders
    assert Order.objects.get(external_id=orders[1]["id"]).first_seen_via == FirstSeenVia.WEBHOOK


def test_window_is_watermark_minus_overlap(fake, connection):
    fake.add_order(created_at=NOW - dt.timedelta(days=3, hours=1))  # inside the 2 h overlap
    fake.add_order(created_at=NOW - dt.timedelta(days=3, hours=3))  # before it: already reconciled
    run = reconcile(connection)
    assert run.window_start == NOW - dt.timedelta(days=3, hours=2)
    assert Order.objects.count() == 1


def test_failed_run_keeps_the_watermark_and_records_the_error(fake, connection):
    fake.failing.add("refunds")
    before = connection.reconciled_through
    run = reconcile(connection)
    assert run.status == "failed"
    assert run.errors == 1
    assert run.last_error == Failure.PROCESSOR_ERROR
    connection.refresh_from_db()
    assert connection.reconciled_through == before
    assert connection.sync_locked_until is None


def test_bad_token_fails_clearly(fake, connection):
    ProcessorConnection.objects.filter(pk=connection.pk).update(api_token="wrong")
    connection.refresh_from_db()
    run = reconcile(connection)
    assert run.status == "failed"
    assert run.last_error == Failure.TOKEN_REJECTED


def test_one_run_per_connection_at_a_time(fake, connection):
    ProcessorConnection.objects.filter(pk=connection.pk).update(sync_locked_until=NOW + dt.timedelta(minutes=30))
    run = reconcile(connection)
    assert run.status == "skipped"
    assert fake.requests == []

    ProcessorConnection.objects.filter(pk=connection.pk).update(sync_locked_until=NOW - dt.timedelta(minutes=1))
    assert reconcile(connection).status == "succeeded"  # an expired lease (crashed worker) is taken over


def test_redelivered_task_does_not_run_twice(fake, connection):
    run = reconcile(connection)
    requests = len(fake.requests)
    assert sync_run_execute(sync_run_id=run.pk).status == "succeeded"
    assert len(fake.requests) == requests


def test_new_connection_backfills_90_days_with_visible_progress(fake, connection):
    ProcessorConnection.objects.filter(pk=connection.pk).update(reconciled_through=None)
    connection.refresh_from_db()
    seed(fake, 120, NOW - dt.timedelta(days=60))
    fake.add_order(created_at=NOW - dt.timedelta(days=91))

    run = reconcile(connection)
    assert run.window_start == NOW - dt.timedelta(days=90)
    assert Order.objects.count() == 120
    assert run.pages >= 2
    assert run.progress.startswith("refunds: page 1 of")


def test_pending_order_from_before_the_window_is_refreshed(fake, connection):
    old = fake.add_order(created_at=NOW - dt.timedelta(days=20), status="pending", paid=False)
    body = payload("order_created_purchase")
    body["data"] = dict(old)
    (change,) = mapping.event_from(body).changes
    change_apply(connection=connection, change=change)
    old.update(status="paid", paid=True, modified_at="2026-11-26T09:00:00.000000Z")

    run = reconcile(connection)
    order = Order.objects.get()
    assert (order.status, run.updated) == ("paid", 1)


@pytest.mark.parametrize("declared", [Repair.UNLISTED_SUBSCRIPTIONS, Repair.PENDING_ORDERS])
def test_reconcile_runs_only_the_repairs_the_adapter_declares(fake, connection, monkeypatch, declared):
    """Asking for single objects again fills gaps of one processor's lists: another may have none."""
    monkeypatch.setattr(PolarAdapter, "repairs", frozenset({declared}))
    pending = fake.add_order(created_at=NOW - dt.timedelta(days=20), status="pending", paid=False)
    body = payload("order_created_purchase")
    body["data"] = dict(pending)
    change_apply(connection=connection, change=mapping.event_from(body).changes[0])
    pending.update(status="paid", paid=True, modified_at="2026-11-26T09:00:00.000000Z")
    ended = fake.add_subscription(started_at=NOW - dt.timedelta(days=200))
    stored_subscription(connection, ended)
    ended.update(
        status="canceled", ended_at=iso(NOW - dt.timedelta(days=10)), modified_at=iso(NOW - dt.timedelta(days=10))
    )

    reconcile(connection)

    order_repaired = Order.objects.get().status == "paid"
    subscription_repaired = Subscription.objects.get().status == "canceled"
    assert (order_repaired, subscription_repaired) == (
        declared == Repair.PENDING_ORDERS,
        declared == Repair.UNLISTED_SUBSCRIPTIONS,
    )


def test_sync_runs_are_recorded(fake, connection):
    reconcile(connection)
    assert SyncRun.objects.filter(connection=connection, status="succeeded").count() == 1


def test_reconcile_command_prints_the_stats(fake, connection, capsys):
    from django.core.management import call_command

    seed(fake, 2, NOW - dt.timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        call_command("reconcile", "--workspace", connection.workspace.public_id, "--processor", "polar")
    out = capsys.readouterr().out
    assert "succeeded · fetched 3, created 3, updated 0, missed_by_webhook 2, errors 0" in out
    assert Order.objects.count() == 2


def stored_subscription(connection, served: dict) -> Subscription:
    body = payload("subscription_updated_revoked")
    body["data"] = dict(served)
    (change,) = mapping.event_from(body).changes
    change_apply(connection=connection, change=change)
    return Subscription.objects.get(external_id=served["id"])


def test_subscription_canceled_before_the_window_and_revoked_inside_it_is_seen(fake, connection):
    """Webhooks dropped: the revoke carries no date the list can filter on, so the poll asks again for
    each subscription held open that the listing of open ones no longer returns."""
    started, canceled = NOW - dt.timedelta(days=40), NOW - dt.timedelta(days=20)
    served = fake.add_subscription(
        started_at=started,
        cancel_at_period_end=True,
        canceled_at=iso(canceled),
        current_period_end=iso(NOW - dt.timedelta(days=2)),
        ends_at=iso(NOW - dt.timedelta(days=2)),
        modified_at=iso(canceled),
    )
    assert stored_subscription(connection, served).status == "active"
    served.update(
        status="canceled",
        ended_at=iso(NOW - dt.timedelta(days=2)),
        modified_at=iso(NOW - dt.timedelta(days=2)),
    )

    run = reconcile(connection)

    subscription = Subscription.objects.get()
    assert (subscription.status, run.updated, run.status) == ("canceled", 1, "succeeded")
    assert reconcile(connection).updated == 0  # nothing left to ask about


def test_subscription_that_fell_past_due_is_seen(fake, connection):
    served = fake.add_subscription(started_at=NOW - dt.timedelta(days=40))
    assert stored_subscription(connection, served).status == "active"
    served.update(status="past_due", modified_at=iso(NOW - dt.timedelta(hours=5)))

    reconcile(connection)

    assert Subscription.objects.get().status == "past_due"


def single_fetches(fake) -> list[str]:
    """Requests for one object (`GET /v1/subscriptions/{id}`), not a list."""
    return [path for path in fake.requests if "?" not in path]


def test_polar_lists_exactly_the_statuses_the_ledger_holds_open():
    assert set(OPEN_SUBSCRIPTION_STATUSES) == set(SubscriptionStatus.values) - TERMINAL_SUBSCRIPTION_STATUSES


@pytest.mark.parametrize(
    "stored",
    [
        {"status": "past_due", "past_due_at": iso(NOW - dt.timedelta(days=31))},
        {"status": "paused", "paused_at": iso(NOW - dt.timedelta(days=31))},
    ],
)
def test_old_subscription_back_to_active_is_repaired(fake, connection, stored):
    """Started 200 days ago and back to active with no date the list can filter on: the listing of every
    open subscription still returns it."""
    served = fake.add_subscription(
        started_at=NOW - dt.timedelta(days=200), modified_at=iso(NOW - dt.timedelta(days=31)), **stored
    )
    assert stored_subscription(connection, served).status == stored["status"]
    served.update(status="active", past_due_at=None, paused_at=None, modified_at=iso(NOW - dt.timedelta(hours=5)))

    run = reconcile(connection)

    assert (Subscription.objects.get().status, run.updated, run.status) == ("active", 1, "succeeded")
    assert single_fetches(fake) == []  # read from the listing, not asked for again


def test_open_subscription_that_ended_with_no_date_in_the_window_is_asked_for_again(fake, connection):
    served = fake.add_subscription(
        started_at=NOW - dt.timedelta(days=200),
        status="past_due",
        past_due_at=iso(NOW - dt.timedelta(days=20)),
        modified_at=iso(NOW - dt.timedelta(days=20)),
    )
    assert stored_subscription(connection, served).status == "past_due"
    served.update(status="unpaid", modified_at=iso(NOW - dt.timedelta(days=4)))  # dunning gave up, before the window

    run = reconcile(connection)

    assert (Subscription.objects.get().status, run.updated, run.status) == ("unpaid", 1, "succeeded")
    assert single_fetches(fake) == [f"/v1/subscriptions/{served['id']}"]
    fake.requests.clear()
    assert reconcile(connection).updated == 0
    assert single_fetches(fake) == []  # ended: nothing left to ask about


def test_a_quiet_run_updates_nothing_in_one_request_per_page(fake, connection):
    for i in range(250):
        fake.add_subscription(started_at=NOW - dt.timedelta(days=200 + i))
    assert reconcile(connection).created == 250
    fake.requests.clear()

    run = reconcile(connection)

    assert (run.fetched, run.created, run.updated, run.errors, run.status) == (250, 0, 0, 0, "succeeded")
    open_listing = [path for path in fake.requests if "status=incomplete&status=trialing" in path]
    assert len(open_listing) == 3  # 100 a page, every open status in one request
    assert "status=active&status=past_due&status=paused" in open_listing[0]
    assert len(fake.requests) == 3 + 2 + 2  # + ended ones started or canceled in the window, orders, refunds
    assert single_fetches(fake) == []


def test_subscriptions_asked_for_again_are_bounded_per_run(fake, connection, monkeypatch):
    monkeypatch.setattr(PolarAdapter, "requests_per_minute", 2)  # a minute of requests: two
    served = [fake.add_subscription(started_at=NOW - dt.timedelta(days=200 + i)) for i in range(3)]
    for subscription in served:
        stored_subscription(connection, subscription)
        subscription.update(
            status="canceled",
            canceled_at=iso(NOW - dt.timedelta(days=10)),
            ended_at=iso(NOW - dt.timedelta(days=10)),
            modified_at=iso(NOW - dt.timedelta(days=10)),
        )

    assert reconcile(connection).updated == 2
    assert len(single_fetches(fake)) == 2
    assert reconcile(connection).updated == 1  # the rest, next run
    assert set(Subscription.objects.values_list("status", flat=True)) == {"canceled"}


@pytest.mark.parametrize(("answer", "error"), [("unknown status", "status 'frozen'"), ("gone", "is gone from the API")])
def test_a_subscription_the_api_cannot_give_back_is_an_error_of_the_run_not_its_end(
    fake, connection, answer, error, caplog
):
    served = fake.add_subscription(started_at=NOW - dt.timedelta(days=200))
    stored_subscription(connection, served)
    if answer == "gone":
        fake.subscriptions.remove(served)
    else:
        served.update(status="frozen", modified_at=iso(NOW - dt.timedelta(hours=5)))

    run = reconcile(connection)

    assert (run.status, run.errors, Subscription.objects.get().status) == ("succeeded", 1, "active")
    assert run.last_error == Failure.UNREADABLE  # what the processor said is for the log only
    assert served["id"] in caplog.text and error in caplog.text
    connection.refresh_from_db()
    assert connection.reconciled_through == NOW
