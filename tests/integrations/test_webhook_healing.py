"""Processing failures that heal (issue 10, items 3 and 6): database errors that may pass (deadlock,
serialization failure, lost connection) are retried from the inbox with backoff up to a cap; a poison
delivery stops with its traceback; a reprocess tells the consumers again; only the event row is
locked while processing."""

import datetime as dt
import io
import threading
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db import connection as db_connection
from django.utils import timezone

from integrations.models import Order, WebhookEvent, WebhookEventStatus
from integrations.processors.errors import ProcessorUnavailable
from integrations.services import webhooks
from integrations.services.webhooks import (
    MAX_ATTEMPTS,
    REPROCESS_TASK,
    webhook_event_process,
    webhook_event_reprocess,
    webhook_events_sweep,
)
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.integrations.polar import event, payload
from tests.workers import wait_until
from trackrev.outbox.models import Notification
from trackrev.outbox.services import notifications_sweep

pytestmark = pytest.mark.django_db


def stored(connection, body: dict, delivery_id: str = "msg_heal") -> WebhookEvent:
    return WebhookEventFactory(connection=connection, payload=body, delivery_id=delivery_id)


def failing_once(monkeypatch, error: Exception):
    real, calls = webhooks.change_apply, []

    def change_apply(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(webhooks, "change_apply", change_apply)


def test_a_deadlock_is_retried_with_backoff_and_ends_processed(monkeypatch, broker):
    failing_once(monkeypatch, OperationalError("deadlock detected"))
    inbox_row = stored(ProcessorConnectionFactory(), payload("order_created_purchase"))

    failed = webhook_event_process(event_id=inbox_row.pk)
    assert (failed.status, failed.attempts) == (WebhookEventStatus.FAILED, 1)
    assert "deadlock detected" in failed.last_error and "Traceback" in failed.last_error
    assert timezone.now() + dt.timedelta(seconds=14) < failed.retry_at <= timezone.now() + dt.timedelta(seconds=31)
    assert webhook_events_sweep() == 0  # not due yet

    with time_machine.travel(failed.retry_at + dt.timedelta(seconds=1)):
        assert webhook_events_sweep() == 1
    broker.run(count=1)
    done = WebhookEvent.objects.get()
    assert (done.status, done.attempts, done.last_error, done.retry_at) == ("processed", 2, "", None)
    assert Order.objects.count() == 1


def test_a_processor_api_down_while_a_delivery_is_read_is_retried_like_a_database_error(monkeypatch, broker):
    """A parser that must ask the processor's API (a refund naming only its payment) meets a 503 or 429."""
    failing_once(monkeypatch, ProcessorUnavailable("https://api.example/v1 answered 503 after 4 attempts"))
    inbox_row = stored(ProcessorConnectionFactory(), payload("order_created_purchase"))

    failed = webhook_event_process(event_id=inbox_row.pk)
    assert (failed.status, failed.attempts) == (WebhookEventStatus.FAILED, 1)
    assert failed.retry_at is not None

    with time_machine.travel(failed.retry_at + dt.timedelta(seconds=1)):
        assert webhook_events_sweep() == 1
    broker.run(count=1)
    assert WebhookEvent.objects.get().status == "processed" and Order.objects.count() == 1


def test_a_failure_that_keeps_coming_back_stops_at_the_cap_with_its_traceback(monkeypatch, broker):
    def change_apply(**kwargs):
        raise OperationalError("could not serialize access due to concurrent update")

    monkeypatch.setattr(webhooks, "change_apply", change_apply)
    inbox_row = stored(ProcessorConnectionFactory(), payload("order_created_purchase"))
    now = timezone.now()
    webhook_event_process(event_id=inbox_row.pk)
    for _ in range(MAX_ATTEMPTS - 1):
        now += dt.timedelta(hours=2)
        with time_machine.travel(now):
            assert webhook_events_sweep() == 1
            broker.run()
    poisoned = WebhookEvent.objects.get()
    assert (poisoned.status, poisoned.attempts, poisoned.retry_at) == ("failed", MAX_ATTEMPTS, None)
    assert "could not serialize access" in poisoned.last_error and 'File "' in poisoned.last_error
    with time_machine.travel(now + dt.timedelta(days=1)):
        assert webhook_events_sweep() == 0


def test_an_unreadable_payload_stops_at_once_with_its_traceback():
    body = payload("order_created_purchase")
    del body["data"]["created_at"], body["data"]["modified_at"]
    body.pop("timestamp", None)
    failed = webhook_event_process(event_id=stored(ProcessorConnectionFactory(), body).pk)
    assert (failed.status, failed.attempts, failed.retry_at) == ("failed", 1, None)
    assert "PayloadInvalid" in failed.last_error and "Traceback" in failed.last_error


def test_a_reprocess_tells_the_consumers_again_even_when_the_ledger_does_not_change(broker, committed, settings):
    settings.ORDER_CONSUMERS = ["attribution.conversion_record"]
    inbox_row = stored(ProcessorConnectionFactory(), payload("order_created_purchase"))
    with committed():
        webhook_event_process(event_id=inbox_row.pk)
    broker.run()
    assert not Notification.objects.exists()

    with committed():
        webhook_event_reprocess(event=inbox_row)
    broker.run(count=1)  # the reprocess itself
    order = Order.objects.get()
    assert Notification.objects.filter(task="attribution.conversion_record", subject_id=order.pk).exists()
    assert WebhookEvent.objects.get().status == "processed"


def test_the_reprocess_command_tells_the_consumers_again(broker, settings):
    from django.core.management import call_command

    settings.ORDER_CONSUMERS = ["attribution.conversion_record"]
    inbox_row = stored(ProcessorConnectionFactory(), payload("order_created_purchase"))
    webhook_event_process(event_id=inbox_row.pk)
    Notification.objects.all().delete()  # as if the consumers had long been told
    call_command("webhook_reprocess", str(inbox_row.pk))
    assert Notification.objects.filter(subject_id=Order.objects.get().pk).count() == 1


def _other_session() -> psycopg.Connection:
    """A second session on the test database, as another process would hold."""
    db = db_connection.settings_dict
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_processed_at_once_while_another_insert_holds_a_key_share_lock_on_its_connection():
    """What a web process inserting the next delivery does to the connection row (its foreign key)."""
    connection = ProcessorConnectionFactory()
    inbox_row = stored(connection, payload("order_created_purchase"))
    with _other_session() as other:
        other.execute("SELECT id FROM integrations_processorconnection WHERE id = %s FOR KEY SHARE", [connection.pk])
        processed = webhook_event_process(event_id=inbox_row.pk)
        other.rollback()
    assert processed is not None and processed.status == WebhookEventStatus.PROCESSED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_ends_processed(broker):
    """Another transaction holds the order and then wants the delivery being processed: PostgreSQL picks
    the processing as the victim (it waited first, with the shorter deadlock_timeout)."""
    connection = ProcessorConnectionFactory()
    webhook_event_process(event_id=stored(connection, payload("order_created_purchase"), "msg_first").pk)
    order = Order.objects.get()
    update = stored(connection, event("order_created_purchase", "order.updated", modified_at="2026-09-04T10:00:00Z"))
    with db_connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '100ms'")
        cursor.execute("SELECT pg_backend_pid()")
        processing_pid = cursor.fetchone()[0]

    def rival():
        with _other_session() as other:
            other.execute("SELECT id FROM integrations_order WHERE id = %s FOR UPDATE", [order.pk])
            locked.set()
            wait_until(
                lambda: other.execute(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [processing_pid]
                ).fetchone()[0],
                "the processing never waited for the order",
            )
            other.execute("SELECT id FROM integrations_webhookevent WHERE id = %s FOR UPDATE", [update.pk])
            other.commit()

    locked = threading.Event()
    thread = threading.Thread(target=rival)
    thread.start()
    assert locked.wait(10)
    failed = webhook_event_process(event_id=update.pk)
    thread.join(10)
    assert failed.status == "failed" and "deadlock detected" in failed.last_error and failed.retry_at

    with time_machine.travel(failed.retry_at + dt.timedelta(seconds=1)):
        assert webhook_events_sweep() == 1
    broker.run()
    assert WebhookEvent.objects.get(pk=update.pk).status == "processed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_mid_processing_is_retried_on_a_new_one(broker):
    connection = ProcessorConnectionFactory()
    inbox_row = stored(connection, payload("order_created_purchase"))
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with _other_session() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        other.commit()

    failed = webhook_event_process(event_id=inbox_row.pk)
    assert failed.status == "failed" and failed.retry_at is not None  # recorded on a fresh connection
    with time_machine.travel(failed.retry_at + dt.timedelta(seconds=1)):
        assert webhook_events_sweep() == 1
    broker.run()
    assert WebhookEvent.objects.get().status == "processed" and Order.objects.count() == 1


@contextmanager
def held_by_another_worker(inbox_row: WebhookEvent, *, at_most: float = 5.0):
    """The delivery's row locked in another session, as a worker processing it holds it, until the block
    ends (or `at_most` seconds: code that waited for the lock then goes on, and its test fails)."""
    locked, release = threading.Event(), threading.Event()

    def worker():
        with _other_session() as other:
            other.execute("SELECT id FROM integrations_webhookevent WHERE id = %s FOR UPDATE", [inbox_row.pk])
            locked.set()
            release.wait(at_most)
            other.rollback()

    thread = threading.Thread(target=worker)
    thread.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def failed_delivery() -> WebhookEvent:
    connection, body = ProcessorConnectionFactory(), payload("order_created_purchase")
    return WebhookEventFactory(connection=connection, payload=body, status="failed", last_error="boom")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_reprocess_command_skips_a_delivery_another_worker_holds_and_names_it():
    inbox_row = failed_delivery()
    out = io.StringIO()
    with held_by_another_worker(inbox_row), pytest.raises(CommandError, match=f"held them: {inbox_row.pk}"):
        call_command("webhook_reprocess", "--failed", stdout=out)
    assert f"{inbox_row.pk}: busy" in out.getvalue()
    assert WebhookEvent.objects.get().status == "failed" and not Order.objects.exists()  # left to its holder

    call_command("webhook_reprocess", "--failed", stdout=io.StringIO())
    assert WebhookEvent.objects.get().status == "processed" and Order.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reprocess_asked_from_the_admin_while_another_worker_holds_the_delivery_is_tried_again(admin_client, broker):
    inbox_row = failed_delivery()
    with held_by_another_worker(inbox_row):
        response = admin_client.post(
            "/admin/integrations/webhookevent/",
            {"action": "reprocess", "_selected_action": [inbox_row.pk]},
            follow=True,
        )
        assert "1 of them are being processed right now" in response.content.decode()
        broker.run()  # the reprocess task meets the held row
        queued = Notification.objects.get(task=REPROCESS_TASK, subject_id=inbox_row.pk)
        assert queued.attempts == 1 and "WebhookEventBusy" in queued.last_error
    assert WebhookEvent.objects.get().status == "failed"  # the holder's row was never written

    with time_machine.travel(queued.due_at + dt.timedelta(seconds=1)):
        assert notifications_sweep() == 1
    broker.run()
    assert WebhookEvent.objects.get().status == "processed" and Order.objects.count() == 1
    assert not Notification.objects.filter(task=REPROCESS_TASK).exists()
