import pytest
from django.conf import settings

from trackrev.celery import app, collect_schedules


@pytest.fixture(scope="module")
def registered():
    app.loader.import_default_modules()
    return set(app.tasks)


def test_every_order_consumer_is_a_registered_task(registered):
    assert set(settings.ORDER_CONSUMERS) <= registered


def test_integration_tasks_are_registered_under_pinned_names(registered):
    assert {
        "integrations.webhook_events_process",
        "integrations.webhook_event_reprocess",
        "integrations.webhook_events_sweep",
        "integrations.connection_reconcile",
        "integrations.reconcile_all",
        "integrations.fx_fetch_daily",
    } <= registered


def test_integration_schedules_point_at_registered_tasks_and_expire(registered):
    from integrations.schedules import SCHEDULE

    assert SCHEDULE
    for name, entry in SCHEDULE.items():
        assert entry["task"] in registered, name
        assert entry["options"]["expires"] > 0
    assert SCHEDULE.items() <= collect_schedules().items()


def test_webhook_processing_retries_from_the_inbox_not_with_celery(registered):
    """Failures are retried from the inbox row (webhook_events_sweep), so Celery retries must stay off."""
    for name in ("integrations.webhook_events_process", "integrations.webhook_event_reprocess"):
        task = app.tasks[name]
        assert not getattr(task, "autoretry_for", ()), name
        assert task.acks_late


@pytest.mark.django_db
def test_ledger_change_tells_every_consumer_through_the_outbox_after_commit(settings, broker, committed):
    from integrations.models import Order
    from integrations.processors.polar import mapping
    from integrations.services.ledger import change_apply
    from tests.factories.integrations import ProcessorConnectionFactory
    from tests.integrations.polar import payload
    from trackrev.outbox.models import Notification
    from trackrev.outbox.services import DELIVER_TASK

    settings.ORDER_CONSUMERS = ["attribution.conversion_record", "affiliates.commission_sync_for_order"]
    connection = ProcessorConnectionFactory()
    (change,) = mapping.event_from(payload("order_created_purchase")).changes
    with committed():
        change_apply(connection=connection, change=change)
        assert broker.sent == []  # nothing before commit
    order_id = Order.objects.get().pk
    rows = list(Notification.objects.order_by("task").values_list("task", "subject_id"))
    assert rows == [("affiliates.commission_sync_for_order", order_id), ("attribution.conversion_record", order_id)]
    assert broker.sent == [(DELIVER_TASK, [sorted(Notification.objects.values_list("pk", flat=True))])]


def test_dispatch_publishes_committed_ids_off_the_request_thread(monkeypatch, settings):
    import threading

    from integrations import dispatch
    from trackrev.common.batching import ProcessBatcher

    settings.WEBHOOK_DISPATCH_BATCH_SECONDS = 0.05
    published, all_in = [], threading.Event()

    def send_task(name, args):
        published.append((name, args[0], threading.current_thread().name))
        if sum(len(ids) for _, ids, _ in published) == 3:
            all_in.set()

    monkeypatch.setattr(app, "send_task", send_task)
    monkeypatch.setattr(dispatch, "_batcher", ProcessBatcher(dispatch.webhook_events_publish, name="webhook-dispatch"))
    for event_id in (11, 12, 13):
        dispatch.webhook_event_dispatch(event_id)
    assert all_in.wait(timeout=5)
    assert {(name, thread) for name, _, thread in published} == {(dispatch.PROCESS_MANY, "webhook-dispatch")}
    assert sorted(i for _, ids, _ in published for i in ids) == [11, 12, 13]


@pytest.mark.django_db
def test_batch_task_processes_every_event(django_capture_on_commit_callbacks):
    from integrations.models import Order, WebhookEvent
    from integrations.tasks import webhook_events_process
    from tests.factories.integrations import ProcessorConnectionFactory
    from tests.integrations.polar import encode, payload

    connection = ProcessorConnectionFactory()
    ids = [
        WebhookEvent.objects.create(
            workspace=connection.workspace,
            connection=connection,
            processor="polar",
            delivery_id=f"d{i}",
            body=encode(payload("order_created_purchase", id=f"order-{i}")).decode(),
        ).pk
        for i in range(3)
    ]
    webhook_events_process(ids)
    assert Order.objects.count() == 3
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
