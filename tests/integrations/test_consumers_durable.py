"""Upward notifications survive the broker (issue 10, item 1): with `send_task` failing while a
webhook or the reconcile writes the ledger, the order is credited later by the outbox sweeper, with no
replay of the delivery; a duplicate notification changes nothing."""

import datetime as dt

import pytest
import time_machine

from attribution.models import Credit, DailyRollup, OrderAttribution
from integrations.models import Order
from integrations.processors.http import HttpClient
from integrations.processors.registry import get_adapter
from integrations.services.consumers import order_consumers_notify
from integrations.services.reconcile import sync_run_execute, sync_run_queue
from integrations.services.webhooks import webhook_event_process
from tests.factories.engine import TouchFactory
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.integrations.fake_polar import FakePolar
from tests.integrations.polar import payload
from tests.workers import running_worker, wait_until, worker_app
from trackrev.outbox.models import Notification
from trackrev.outbox.services import notifications_sweep

VISITOR = "v_01J8Z3K2M4"  # the reference order's customer metadata
PLACED = dt.datetime(2026, 9, 3, 14, 22, tzinfo=dt.UTC)
TOKEN = "polar_oat_fake_token_0001"


def newsletter_visit(workspace):
    TouchFactory(
        workspace=workspace,
        visitor_id=VISITOR,
        occurred_at=PLACED - dt.timedelta(days=2),
        channel="Newsletter",
        channel_group="Email",
    )


def credited(order) -> dict:
    return {c.channel: c.revenue_usd_minor for c in Credit.objects.filter(order=order, model="last_touch")}


def attribution_snapshot(order) -> tuple:
    rollups = sorted(DailyRollup.objects.values_list("model", "channel", "revenue_usd_minor", "conversions"))
    return OrderAttribution.objects.get(order=order).revision, credited(order), rollups


@pytest.mark.django_db
def test_broker_down_while_a_webhook_is_processed_delays_the_credit_but_never_loses_it(broker, committed):
    connection = ProcessorConnectionFactory()
    newsletter_visit(connection.workspace)
    event = WebhookEventFactory(connection=connection, payload=payload("order_created_purchase"))

    broker.down = True
    with committed():
        event = webhook_event_process(event_id=event.pk)
    assert event.status == "processed"  # the delivery is done: the ledger has the order …
    order = Order.objects.get()
    assert credited(order) == {}  # … which attribution has not heard of yet
    assert Notification.objects.filter(task="attribution.conversion_record", subject_id=order.pk).exists()

    broker.down = False
    notifications_sweep()  # beat runs it every minute; the delivery is not replayed
    broker.run()
    assert credited(order) == {"Newsletter": 4410}
    assert not Notification.objects.exists()

    before = attribution_snapshot(order)
    with committed():
        order_consumers_notify(order_id=order.pk)  # a duplicate notification
    broker.run()
    assert attribution_snapshot(order) == before


@pytest.mark.django_db
def test_broker_down_during_the_reconcile_delays_the_credits_but_never_loses_them(broker, committed):
    now = dt.datetime(2026, 9, 4, 12, tzinfo=dt.UTC)
    with FakePolar(token=TOKEN) as fake:
        served = fake.add_order(created_at=PLACED)
        connection = ProcessorConnectionFactory(
            api_base_url=fake.base_url, api_token=TOKEN, reconciled_through=now - dt.timedelta(days=2)
        )
        newsletter_visit(connection.workspace)
        run = sync_run_queue(connection=connection)
        broker.down = True
        http = HttpClient(base_url=fake.base_url, token=TOKEN, sleep=lambda seconds: None)
        with committed(), time_machine.travel(now, tick=False):
            run = sync_run_execute(sync_run_id=run.pk, adapter=get_adapter(connection, http=http))
    assert (run.status, run.created) == ("succeeded", 1)
    order = Order.objects.get(external_id=served["id"])
    assert credited(order) == {}

    broker.down = False
    notifications_sweep()
    broker.run()
    assert credited(order) == {"Newsletter": 4410}

    before = attribution_snapshot(order)
    with committed():
        order_consumers_notify(order_id=order.pk)
    broker.run()
    assert attribution_snapshot(order) == before


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_the_order_is_credited_by_a_real_worker_once_it_is_back(redis_url):
    """The same with the real thing: kombu failing to reach a Redis that is not there, then a worker on
    the real Redis running the sweep and the consumers."""
    import uuid

    connection = ProcessorConnectionFactory()
    newsletter_visit(connection.workspace)
    event = WebhookEventFactory(connection=connection, payload=payload("order_created_purchase"))
    down = worker_app("redis://127.0.0.1:1/0", broker_transport_options={})
    down.set_current()
    assert webhook_event_process(event_id=event.pk).status == "processed"
    order = Order.objects.get()
    assert credited(order) == {} and Notification.objects.get().due_at is not None

    up = worker_app(redis_url, broker_transport_options={}, task_default_queue=f"test-{uuid.uuid4().hex}")
    with running_worker(up, pool="solo"):
        up.send_task("trackrev.outbox_sweep")
        wait_until(lambda: credited(order) == {"Newsletter": 4410}, "the order was never credited")
        wait_until(lambda: not Notification.objects.exists(), "the notification was not cleared")
