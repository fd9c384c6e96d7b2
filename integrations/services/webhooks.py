"""The webhook inbox: store verified deliveries raw, then process them in a task (idempotent, replayable)."""

import logging
import time
import traceback
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.utils import timezone

from integrations.dispatch import webhook_event_dispatch, webhook_events_publish
from integrations.models import ConnectionStatus, ProcessorConnection, WebhookEvent, WebhookEventStatus
from integrations.processors.base import ProcessorAdapter
from integrations.processors.errors import ProcessorUnavailable
from integrations.processors.registry import get_adapter
from integrations.processors.signing import sha256_hex
from integrations.services.consumers import orders_consumers_notify
from integrations.services.inbox import inbox_insert
from integrations.services.ledger import change_apply, change_order_ids
from trackrev.common.backoff import backoff_seconds
from trackrev.outbox.services import WorkerLost, notifications_enqueue

logger = logging.getLogger(__name__)

# Kept with every stored delivery, besides the adapter's own `webhook_headers`.
KEPT_HEADERS = ("user-agent", "content-type")
DONE = (WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED)
# A delivery received this long ago and still unprocessed lost its dispatch (or waits in a backlog).
STUCK_AFTER = timedelta(minutes=3)
SWEEP_LIMIT = 1000


# Active connections seen recently by this process: the lookup is most of an acknowledgement's cost.
# A disabled connection or a new secret takes effect within CONNECTION_TTL seconds in every process.
CONNECTION_TTL = 5.0
_recent: dict[tuple[str, str], tuple[float, ProcessorConnection]] = {}


def webhook_connection_get(*, processor: str, workspace_public_id: str) -> ProcessorConnection | None:
    key = (processor, workspace_public_id)
    cached = _recent.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    connection = (
        ProcessorConnection.objects.select_related("workspace")
        .filter(processor=processor, workspace__public_id=workspace_public_id, status=ConnectionStatus.ACTIVE)
        .first()
    )
    if connection is None:
        _recent.pop(key, None)
    else:
        _recent[key] = (time.monotonic() + CONNECTION_TTL, connection)
    return connection


def webhook_connection_forget() -> None:
    _recent.clear()


def webhook_event_receive(
    *,
    connection: ProcessorConnection,
    adapter: ProcessorAdapter,
    body: bytes,
    headers: Mapping[str, str],
    payload: dict,
) -> int | None:
    """Insert a verified delivery under unique (connection, delivery id) and queue it for processing;
    returns its id, or None for a repeat, which stores nothing new. `headers`: those to keep, by
    lower-case name.
    Raises InboxUnavailable when it cannot be stored now."""
    event_type = adapter.event_type(payload=payload)
    handled = adapter.handles(event_type)
    event_id = inbox_insert(
        {
            "workspace_id": connection.workspace_id,
            "connection_id": connection.pk,
            "processor": connection.processor,
            "delivery_id": adapter.delivery_id(body=body, headers=headers, payload=payload),
            "event_type": event_type,
            "headers": dict(headers),
            "body": body.decode("utf-8"),
            "body_sha256": sha256_hex(body),
            "status": WebhookEventStatus.RECEIVED if handled else WebhookEventStatus.IGNORED,
            "processed_at": None if handled else timezone.now(),
        }
    )
    if event_id is not None and handled:
        transaction.on_commit(lambda: webhook_event_dispatch(event_id))
    return event_id


# Database errors that may pass (deadlock, serialization failure, lost connection, a locked SQLite file):
# processed again later, with backoff, up to MAX_ATTEMPTS.
# Errors that may pass: the database's, and a processor's API a delivery's parser asks (one that names an
# object only by id) being down or rate limited.
# A worker that died (killed, out of memory) while processing a delivery may not die again.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ProcessorUnavailable, WorkerLost)
MAX_ATTEMPTS = 8  # about four hours of backoff


class WebhookEventBusy(Exception):
    """Another worker is processing the delivery right now (it holds the row)."""


def webhook_event_process(*, event_id: int, force: bool = False) -> WebhookEvent | None:
    """Apply a stored delivery to the ledger. Done rows are left alone, so a replay is a no-op, unless
    `force` (a reprocess), which also tells the consumers again about every order the delivery concerns,
    changed or not. A failure keeps the row with its traceback; one that may heal is retried later
    (webhook_events_sweep), up to MAX_ATTEMPTS. A row another worker holds is never waited for: a
    plain run leaves it to that worker, a reprocess raises WebhookEventBusy (to be tried again later)."""
    try:
        with transaction.atomic():
            # Only the event row is locked: the web process inserting the next delivery holds a key-share
            # lock on the connection row, which a joined FOR UPDATE would wait for or skip.
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("connection")
                .filter(pk=event_id)
                .first()
            )
            if event is None and force and WebhookEvent.objects.filter(pk=event_id).exists():
                raise WebhookEventBusy(f"webhook event {event_id} is being processed by another worker")
            if event is None or (event.status in DONE and not force):
                return event
            adapter = get_adapter(event.connection)
            parsed = adapter.parse_event(body=event.body.encode("utf-8"), headers=event.headers)
            results = [change_apply(connection=event.connection, change=change) for change in parsed.changes]
            if force:
                orders_consumers_notify(order_ids=[pk for result in results for pk in change_order_ids(result)])
            event.status = (
                WebhookEventStatus.PROCESSED if any(r.obj is not None for r in results) else WebhookEventStatus.IGNORED
            )
            event.attempts += 1
            event.last_error, event.retry_at, event.processed_at = "", None, timezone.now()
            event.save(update_fields=["status", "attempts", "last_error", "retry_at", "processed_at"])
            return event
    except WebhookEventBusy:
        raise  # the row is the other worker's to update
    except Exception as exc:  # any failure stays on the row, for the admin, the sweeper and the reprocess command
        return _event_failed(event_id, exc)


def _event_failed(event_id: int, exc: Exception) -> WebhookEvent | None:
    db = connections[router.db_for_write(WebhookEvent)]
    if not db.in_atomic_block:
        db.close_if_unusable_or_obsolete()  # after a lost connection, reconnect for this and later events
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return None
    attempts = event.attempts + 1
    retry = isinstance(exc, TRANSIENT_ERRORS) and attempts < MAX_ATTEMPTS
    logger.log(
        logging.WARNING if retry else logging.ERROR,
        "webhook event %s failed (attempt %d, %s)",
        event_id,
        attempts,
        "will retry" if retry else "stopped",
        exc_info=exc,
    )
    event.status, event.attempts = WebhookEventStatus.FAILED, attempts
    event.last_error = "".join(traceback.format_exception(exc))[-10000:]
    event.retry_at = (
        timezone.now() + timedelta(seconds=backoff_seconds(attempts, first=30, cap=3600)) if retry else None
    )
    event.save(update_fields=["status", "attempts", "last_error", "retry_at"])
    return event


def webhook_events_redelivered(event_ids: list[int]) -> None:
    """A batch the broker gave back because its worker died processing it (acks_late, reject on worker
    loss), perhaps because of one of its deliveries. Each is published again alone; one given back alone
    counts that death as a failed attempt before it is processed again, so a delivery that kills its
    worker every time stops at MAX_ATTEMPTS, failed, instead of being given back forever."""
    if len(event_ids) > 1:
        for event_id in event_ids:
            webhook_events_publish([event_id])
        return
    with transaction.atomic():
        # Not one processed before the worker died, nor one another worker holds now.
        pending = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk__in=event_ids)
        event = pending.exclude(status__in=DONE).first()
        failed = event and _event_failed(event.pk, WorkerLost("its worker died while processing it"))
    if failed and failed.retry_at is not None:
        webhook_event_process(event_id=failed.pk)


REPROCESS_TASK = "integrations.webhook_event_reprocess"


def webhook_event_reprocess(*, event: WebhookEvent) -> bool:
    """Queue a delivery to be processed again, whatever its state (after a mapping fix, for instance);
    its consumers hear of its orders again even if the ledger does not change. False when another worker
    is processing it right now: its row is left alone (never waited for), and the reprocess task is
    retried until that worker is done."""
    with transaction.atomic():
        idle = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event.pk).exists()
        if idle:
            WebhookEvent.objects.filter(pk=event.pk).update(
                status=WebhookEventStatus.RECEIVED, last_error="", retry_at=None
            )
        notifications_enqueue(tasks=[REPROCESS_TASK], subject_ids=[event.pk])
    return idle


def webhook_events_sweep() -> int:
    """Enqueue again deliveries still unprocessed after STUCK_AFTER (a dispatch can be lost with a web
    process or a worker) and failed ones whose retry is due (not due again for STUCK_AFTER)."""
    now = timezone.now()
    stuck = WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED, received_at__lt=now - STUCK_AFTER)
    due = WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED, retry_at__lte=now)
    event_ids = list(stuck.values_list("pk", flat=True)[:SWEEP_LIMIT]) + list(
        due.values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    WebhookEvent.objects.filter(pk__in=event_ids, status=WebhookEventStatus.FAILED).update(retry_at=now + STUCK_AFTER)
    webhook_events_publish(event_ids)
    return len(event_ids)


PRUNE_CHUNK = 5000


def webhook_events_prune() -> int:
    """Delete deliveries processed or ignored more than WEBHOOK_INBOX_RETENTION_DAYS ago, in short
    transactions; failed and unprocessed ones stay until they are dealt with. Returns the rows deleted."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_INBOX_RETENTION_DAYS)
    deleted = 0
    while True:
        chunk = list(
            WebhookEvent.objects.filter(status__in=DONE, received_at__lt=cutoff).values_list("pk", flat=True)[
                :PRUNE_CHUNK
            ]
        )
        if not chunk:
            return deleted
        deleted += WebhookEvent.objects.filter(pk__in=chunk).delete()[0]
