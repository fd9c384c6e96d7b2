"""Issue 17, item 2: a worker killed in the middle of a task, between its writes, on real Redis and a real
`celery worker`. The task is stopped at a known point by a pause only the worker processes these tests
start carry (tests/workers.py, `worker_process`); then SIGKILL, and the task ends with exactly one copy
of its effects: the broker delivers it again (acks_late, reject on worker loss, Redis restoring what a
dead worker never acknowledged), not the sweepers, which run minutes later."""

import os
import signal

import pytest
from django.db import transaction

from attribution.models import Credit, DailyRollup
from integrations.dispatch import webhook_events_publish
from integrations.models import Order, WebhookEvent
from integrations.services.webhooks import MAX_ATTEMPTS as INBOX_MAX_ATTEMPTS
from integrations.services.webhooks import webhook_event_process
from tests.factories.engine import OrderFactory
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.integrations.polar import payload
from tests.integrations.test_consumers_durable import credited, newsletter_visit
from tests.workers import paused_pid, redis_namespace, wait_until, worker_process
from trackrev.outbox.models import Notification
from trackrev.outbox.services import MAX_ATTEMPTS as OUTBOX_MAX_ATTEMPTS
from trackrev.outbox.services import notifications_enqueue

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# A dead worker's unacknowledged message is given back after this (production: an hour), checked every second.
CREDITS = "attribution.conversion_record"
RESTORE_AT_ONCE = {"visibility_timeout": 1, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}


@pytest.fixture
def namespace(redis_url):
    with redis_namespace(redis_url) as app:
        yield app.conf.broker_transport_options


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "worker.log"
    path.touch()
    yield path
    print(path.read_text())  # shown when the test fails


def one_copy_of_the_order_and_its_credits(connection) -> None:
    order = Order.objects.get(connection=connection)
    assert credited(order) == {"Newsletter": 4410}
    assert Credit.objects.filter(order=order, model="last_touch").count() == 1
    rollups = DailyRollup.objects.filter(model="last_touch").values_list("channel", "conversions", "revenue_usd_minor")
    assert list(rollups) == [("Newsletter", 1_000_000, 4410)]  # one order (conversions in millionths)


def test_a_pool_process_killed_after_the_ledger_write_before_the_inbox_update_is_redelivered_once(
    redis_url, namespace, log, tmp_path
):
    connection = ProcessorConnectionFactory()
    newsletter_visit(connection.workspace)
    event = WebhookEventFactory(connection=connection, payload=payload("order_created_purchase"))
    paused = tmp_path / "paused"
    pause = "integrations.services.webhooks:change_apply"
    with worker_process(redis_url, log, transport_options=namespace, pause_after=pause, paused=paused) as worker:
        webhook_events_publish([event.pk])  # what a web process's dispatch sends after the 202
        pool_process = paused_pid(paused, worker)
        assert not Order.objects.exists()  # written, in the task's transaction, not committed

        os.kill(pool_process, signal.SIGKILL)
        # The worker's main process rejects the message back to the queue and a new pool process runs it.
        done = WebhookEvent.objects.filter(pk=event.pk, status="processed")
        wait_until(done.exists, "the delivery was not processed again", timeout=60)
        wait_until(lambda: not Notification.objects.exists(), "the consumers were not told", timeout=60)

    assert done.get().attempts == 2  # the death counted as a failed attempt (see the poison tests)
    one_copy_of_the_order_and_its_credits(connection)


def test_a_worker_killed_after_a_consumers_commit_before_the_outbox_delete_is_redelivered_to_the_next_once(
    redis_url, namespace, log, tmp_path
):
    connection = ProcessorConnectionFactory()
    newsletter_visit(connection.workspace)
    event = WebhookEventFactory(connection=connection, payload=payload("order_created_purchase"))
    webhook_event_process(event_id=event.pk)  # commits the order and its notifications, relayed to Redis
    paused = tmp_path / "paused"
    pause = "attribution.tasks:conversion_record_service"
    with worker_process(redis_url, log, transport_options=namespace, pause_after=pause, paused=paused) as worker:
        paused_pid(paused, worker)
    # The whole worker is dead (SIGKILL to it and its pool): the credits committed, their notification not
    # removed, the message never acknowledged.
    order = Order.objects.get()
    assert credited(order) == {"Newsletter": 4410}
    assert Notification.objects.filter(task="attribution.conversion_record").exists()

    with worker_process(redis_url, log, transport_options={**namespace, **RESTORE_AT_ONCE}):
        wait_until(lambda: not Notification.objects.exists(), "the message was not delivered again", timeout=60)
    one_copy_of_the_order_and_its_credits(connection)


def test_a_consumer_that_kills_its_worker_every_time_stops_at_the_attempt_cap_marked_failed(redis_url, namespace, log):
    """The price of giving back a dead worker's message: one that kills it every time (a poison message)
    would be given back forever. Its neighbour in the message is delivered; the poison gives up."""
    order = OrderFactory()
    with transaction.atomic():
        notifications_enqueue(tasks=[CREDITS, "affiliates.order_attribution_changed"], subject_ids=[order.pk])

    with worker_process(
        redis_url, log, transport_options=namespace, dies_in="attribution.tasks:conversion_record_service"
    ):
        poison = Notification.objects.filter(task=CREDITS)
        wait_until(lambda: poison.filter(due_at=None).exists(), "the poison message never gave up", timeout=120)
        wait_until(lambda: Notification.objects.count() == 1, "its neighbour was not delivered")

    row = poison.get()
    assert row.attempts == OUTBOX_MAX_ATTEMPTS and "WorkerLost: its worker died while delivering it" in row.last_error


def test_deliveries_that_kill_their_worker_every_time_stop_at_the_attempt_cap_marked_failed(redis_url, namespace, log):
    connection = ProcessorConnectionFactory()
    events = [
        WebhookEventFactory(connection=connection, payload=payload("order_created_purchase", id=f"order-{n}"))
        for n in range(2)
    ]
    failed = WebhookEvent.objects.filter(status="failed", retry_at=None)

    dies_in = "integrations.services.webhooks:change_apply"
    with worker_process(redis_url, log, transport_options=namespace, dies_in=dies_in):
        webhook_events_publish([event.pk for event in events])  # one batch
        wait_until(lambda: failed.count() == 2, "the poison deliveries never gave up", timeout=180)

    for event in failed:
        assert event.attempts == INBOX_MAX_ATTEMPTS
        assert "WorkerLost: its worker died while processing it" in event.last_error
    assert not Order.objects.exists()
