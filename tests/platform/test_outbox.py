"""The transactional outbox (trackrev/outbox/): written with the change, handed to the broker after
commit, swept when the broker was down or a message was lost, retried with backoff when the consumer
failed, coalesced per consumer and subject, and never removed for a change the consumer did not see."""

import datetime as dt

import pytest
import time_machine
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from trackrev.outbox.models import Notification
from trackrev.outbox.services import (
    DELIVER_TASK,
    MAX_ATTEMPTS,
    REDELIVER_AFTER,
    notifications_delivered_here,
    notifications_enqueue,
    notifications_relay,
    notifications_sweep,
)

pytestmark = pytest.mark.django_db

PROBE = "tests.outbox_probe"
calls: list[int] = []
behaviour: dict = {}


@shared_task(name=PROBE)
def probe(subject_id: int) -> None:
    calls.append(subject_id)
    if behaviour.get("fail"):
        behaviour["fail"] -= 1
        raise RuntimeError("consumer broke")
    if behaviour.pop("change_meanwhile", False):  # a newer change commits while the consumer runs
        notifications_enqueue(tasks=[PROBE], subject_ids=[subject_id])


@pytest.fixture(autouse=True)
def _fresh_probe():
    calls.clear()
    behaviour.clear()


def test_nothing_is_sent_before_commit_and_one_message_after(broker, committed):
    with committed(), transaction.atomic():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7, 8])
        assert broker.sent == []
    row_ids = list(Notification.objects.order_by("subject_id").values_list("pk", flat=True))
    assert broker.sent == [(DELIVER_TASK, [row_ids])]
    broker.run()
    assert calls == [7, 8]
    assert not Notification.objects.exists()


def test_a_block_delivers_its_notifications_itself_and_the_broker_gets_none(broker, committed):
    behaviour["change_meanwhile"] = True  # the first delivery writes a notification in turn

    with committed(), transaction.atomic(), notifications_delivered_here():
        ids = notifications_enqueue(tasks=[PROBE], subject_ids=[7, 8], relay=False)
        notifications_relay(ids)  # what a caller relaying its own ids does
        assert calls == []

    assert calls == [7, 8, 7]
    assert broker.sent == [] and not Notification.objects.exists()


def test_a_burst_of_changes_to_one_subject_is_one_notification_and_one_delivery(broker, committed):
    for _ in range(5):
        with committed():
            notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    assert Notification.objects.count() == 1
    broker.run()  # five messages, one row: the first delivery takes it, the others find nothing
    assert calls == [7]


def test_a_change_committed_while_the_consumer_runs_is_delivered_again(broker, committed):
    behaviour["change_meanwhile"] = True
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.run()
    assert calls == [7, 7]  # the first run may have read the state before that change
    assert not Notification.objects.exists()


def test_with_the_broker_down_the_notification_waits_for_the_sweeper(broker, committed):
    broker.down = True
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    assert Notification.objects.get().due_at <= timezone.now()  # due at once, not in ten minutes
    assert notifications_sweep() == 1 and broker.sent == []  # still down: nothing sent, nothing lost
    assert Notification.objects.count() == 1
    broker.down = False
    assert notifications_sweep() == 1
    broker.run()
    assert calls == [7] and not Notification.objects.exists()


def test_a_lost_message_is_sent_again_after_the_redelivery_delay(broker, committed):
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.sent.clear()  # the message went down with a worker
    assert notifications_sweep() == 0  # not yet: it may still be on its way
    with time_machine.travel(timezone.now() + REDELIVER_AFTER + dt.timedelta(seconds=1)):
        assert notifications_sweep() == 1
    broker.run()
    assert calls == [7]


def test_a_duplicate_message_runs_the_consumer_once(broker, committed):
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.sent.append(broker.sent[0])
    broker.run()
    assert calls == [7]


def test_a_failing_consumer_is_retried_with_backoff_then_gives_up_with_its_traceback(broker, committed):
    behaviour["fail"] = MAX_ATTEMPTS
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.run()
    row = Notification.objects.get()
    assert row.attempts == 1 and "RuntimeError: consumer broke" in row.last_error and "Traceback" in row.last_error
    assert timezone.now() + dt.timedelta(seconds=14) < row.due_at <= timezone.now() + dt.timedelta(seconds=31)
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS - 1):
        now += dt.timedelta(hours=2)
        with time_machine.travel(now):
            assert notifications_sweep() == 1
            broker.run()
    row = Notification.objects.get()
    assert (row.attempts, row.due_at) == (MAX_ATTEMPTS, None)  # gave up: kept for staff, not sent again
    with time_machine.travel(now + dt.timedelta(days=1)):
        assert notifications_sweep() == 0
    assert len(calls) == MAX_ATTEMPTS


def test_a_notification_for_an_unknown_consumer_keeps_the_error(broker, committed):
    with committed():
        notifications_enqueue(tasks=["tests.no_such_task"], subject_ids=[7])
    broker.run()
    assert "NotRegistered: 'tests.no_such_task'" in Notification.objects.get().last_error


def test_a_new_change_revives_a_notification_that_gave_up(broker, committed):
    behaviour["fail"] = 1
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.run()
    Notification.objects.update(due_at=None, attempts=MAX_ATTEMPTS)
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    assert Notification.objects.get().attempts == 0
    broker.run()
    assert calls == [7, 7] and not Notification.objects.exists()


def test_staff_see_failing_notifications_and_send_them_again(admin_client, broker, committed):
    behaviour["fail"] = 1
    with committed():
        notifications_enqueue(tasks=[PROBE], subject_ids=[7])
    broker.run()
    row = Notification.objects.get()
    page = admin_client.get("/admin/outbox/notification/?state=failing").content.decode()
    assert PROBE in page
    response = admin_client.post("/admin/outbox/notification/", {"action": "retry", "_selected_action": [row.pk]})
    assert response.status_code == 302
    broker.run()
    assert calls == [7, 7] and not Notification.objects.exists()


def test_the_sweeper_is_scheduled_every_minute():
    from trackrev.celery import collect_schedules

    entry = collect_schedules()["trackrev.outbox_sweep"]
    assert entry["task"] == "trackrev.outbox_sweep" and entry["schedule"] == dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "setting", ["ORDER_CONSUMERS", "ATTRIBUTION_CONSUMERS", "WORKSPACE_CONSUMERS", "CHANNEL_RULES_CONSUMERS"]
)
def test_every_consumer_named_in_the_settings_is_a_registered_task(setting):
    from django.conf import settings

    from trackrev.celery import app

    app.loader.import_default_modules()
    assert set(getattr(settings, setting)) <= set(app.tasks), setting
