"""The transactional outbox (ARCHITECTURE.md, "Apps and who may import whom").

A change and the notifications it owes commit together; after commit a relay hands them to the
broker, a sweeper sends again whatever was not delivered in time (the broker was down, a message went
down with a worker), and a delivery runs the consumer in the worker and removes the row only once
the consumer succeeded. Consumers recompute from the current state, so a duplicate changes nothing.
"""

import logging
import secrets
import traceback
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from trackrev.common.backoff import backoff_seconds
from trackrev.outbox.models import Notification

logger = logging.getLogger(__name__)

DELIVER_TASK = "trackrev.outbox_deliver"
BATCH = 100  # notifications per broker message
# A relayed notification still here after this is sent again: its message was lost, or waits in a backlog.
REDELIVER_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 10  # failed deliveries (about nine hours of backoff) before a notification gives up
SWEEP_LIMIT = 5000


# Set inside `notifications_delivered_here()`: the ids it will deliver, instead of the broker.
_here: ContextVar[list[int] | None] = ContextVar("notifications_delivered_here", default=None)


def notifications_enqueue(*, tasks: Sequence[str], subject_ids: Iterable[int], relay: bool = True) -> list[int]:
    """Tell each of `tasks` about each subject once the current transaction commits (with `relay`
    off, the caller relays the returned ids itself, or leaves them to the sweeper). A notification
    still pending for the same task and subject is rewritten, so a burst of changes costs one delivery.
    Inside `notifications_delivered_here()` nothing goes to the broker: the block delivers them."""
    now = timezone.now()
    rows = [
        Notification(task=task, subject_id=subject_id, version=secrets.randbits(62), due_at=now + REDELIVER_AFTER)
        for subject_id in dict.fromkeys(subject_ids)
        for task in tasks
    ]
    if not rows:
        return []
    Notification.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["task", "subject_id"],
        update_fields=["version", "due_at", "attempts", "last_error"],
    )
    ids = [row.pk for row in rows]
    if (here := _here.get()) is not None:
        here.extend(ids)
    elif relay:
        transaction.on_commit(lambda: notifications_relay(ids))
    return ids


@contextmanager
def notifications_delivered_here():
    """Deliver the notifications written in the block here, as a worker would, when it ends (and
    those the deliveries write in turn): for the demo seed, whose hundreds of orders must not leave
    the worker hundreds of tasks at every `make run`."""
    here: list[int] = []
    token = _here.set(here)
    try:
        yield
        current_app.loader.import_default_modules()  # the consumers' tasks, outside a worker too
        while here:
            notification_deliver(notification_id=here.pop(0))
    finally:
        _here.reset(token)


def notifications_relay(ids: Sequence[int]) -> None:
    """Hand notifications to the broker; what it cannot take now is due at once, for the next sweep."""
    if _here.get() is not None:
        return  # written in a `notifications_delivered_here()` block, which delivers them
    for start in range(0, len(ids), BATCH):
        try:
            current_app.send_task(DELIVER_TASK, args=[list(ids[start : start + BATCH])])
        except (BrokerError, OSError) as exc:
            logger.warning("broker unavailable: %d notifications wait for the sweeper (%s)", len(ids) - start, exc)
            Notification.objects.filter(pk__in=ids[start:]).update(due_at=timezone.now())
            return


def notification_deliver(*, notification_id: int) -> None:
    """Run the consumer for one notification, here in the worker; the row goes only if the consumer
    succeeded and no newer change rewrote the row meanwhile (then that change's own delivery follows)."""
    row = Notification.objects.filter(pk=notification_id, due_at__isnull=False).first()
    if row is None:
        return  # delivered already (a duplicate message), or given up
    try:
        current_app.tasks[row.task](row.subject_id)
    except Exception as exc:  # any consumer failure is kept on the row and retried with backoff
        _delivery_failed(row, exc)
        return
    Notification.objects.filter(pk=row.pk, version=row.version).delete()


class WorkerLost(Exception):
    """What a delivery whose worker died is recorded as (killed, out of memory, …)."""


def notifications_redelivered(ids: Sequence[int]) -> None:
    """A message the broker gave back because its worker died delivering it (acks_late, reject on worker
    loss), perhaps because of one of its consumers. Each notification is sent again alone; one given back
    alone counts that death as a failed attempt before it runs again, so a consumer that kills its
    worker every time stops at MAX_ATTEMPTS like one that raises, instead of being given back forever."""
    if len(ids) > 1:
        for notification_id in ids:
            notifications_relay([notification_id])
        return
    row = Notification.objects.filter(pk__in=ids, due_at__isnull=False).first()
    if row is not None:  # else delivered before the worker died, or given up
        _delivery_failed(row, WorkerLost("its worker died while delivering it"))
        notification_deliver(notification_id=row.pk)


def _delivery_failed(row: Notification, exc: Exception) -> None:
    attempts = row.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS
    logger.log(
        logging.ERROR if gave_up else logging.WARNING,
        "%s(%s) failed (attempt %d%s)",
        row.task,
        row.subject_id,
        attempts,
        ", giving up" if gave_up else "",
        exc_info=exc,
    )
    Notification.objects.filter(pk=row.pk, version=row.version).update(
        attempts=attempts,
        last_error="".join(traceback.format_exception(exc))[-10000:],
        due_at=None if gave_up else timezone.now() + timedelta(seconds=backoff_seconds(attempts, first=30, cap=3600)),
    )


def notifications_sweep() -> int:
    """Send every notification that is due (its relay failed, its message was lost, or its retry is
    due), marking it not due again before REDELIVER_AFTER. Returns how many were sent."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:SWEEP_LIMIT]
        )
        Notification.objects.filter(pk__in=due).update(due_at=now + REDELIVER_AFTER)
    notifications_relay(due)
    return len(due)


def notifications_retry(*, ids: Sequence[int]) -> int:
    """Deliver again now, given up or not (the admin's action, after the cause is fixed)."""
    count = Notification.objects.filter(pk__in=ids).update(due_at=timezone.now() + REDELIVER_AFTER, attempts=0)
    notifications_relay(list(ids))
    return count
