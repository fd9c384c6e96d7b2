"""The webhook inbox: store verified deliveries raw, then process them in a task (idempotent, replayable)."""

import logging
import time
import traceback
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.dispatch import webhook_event_dispatch
from integrations.models import ConnectionStatus, ProcessorConnection, WebhookEvent, WebhookEventStatus
from integrations.processors.base import ProcessorAdapter
from integrations.processors.errors import ProcessorUnavailable
from integrations.processors.registry import get_adapter
from integrations.processors.signing import sha256_hex
from integrations.services.inbox import inbox_insert
from integrations.services.ledger import change_apply

logger = logging.getLogger(__name__)

# Kept with every stored delivery, besides the adapter's own `webhook_headers`.
KEPT_HEADERS = ("user-agent", "content-type")
STUCK_AFTER = timedelta(minutes=10)


def _enqueue(event_id: int) -> None:
    transaction.on_commit(lambda: webhook_event_dispatch(event_id))


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
            "delivery_id": adapter.delivery_id(body=body, headers=headers),
            "event_type": event_type,
            "headers": dict(headers),
            "body": body.decode("utf-8"),
            "body_sha256": sha256_hex(body),
            "status": WebhookEventStatus.RECEIVED if handled else WebhookEventStatus.IGNORED,
            "processed_at": None if handled else timezone.now(),
        }
    )
    if event_id is not None and handled:
        _enqueue(event_id)
    return event_id


def webhook_event_process(*, event_id: int) -> WebhookEvent | None:
    """Apply a stored delivery to the ledger. Done rows are left alone, so a replay is a no-op; a failure
    keeps the row with its error (transient processor errors are re-raised for the task to retry)."""
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .select_related("connection")
                .filter(pk=event_id)
                .first()
            )
            if event is None or event.status in (WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED):
                return event
            adapter = get_adapter(event.connection)
            parsed = adapter.parse_event(body=event.body.encode("utf-8"), headers=event.headers)
            results = [change_apply(connection=event.connection, change=change) for change in parsed.changes]
            event.status = (
                WebhookEventStatus.PROCESSED if any(r.obj is not None for r in results) else WebhookEventStatus.IGNORED
            )
            event.attempts += 1
            event.last_error = ""
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "attempts", "last_error", "processed_at"])
            return event
    except Exception as exc:  # keep any failure on the row for the admin and the reprocess command
        logger.exception("webhook event %s failed", event_id)
        WebhookEvent.objects.filter(pk=event_id).update(
            status=WebhookEventStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error="".join(traceback.format_exception_only(exc)).strip()[:4000],
        )
        if isinstance(exc, ProcessorUnavailable):
            raise
        return WebhookEvent.objects.filter(pk=event_id).first()


def webhook_event_reprocess(*, event: WebhookEvent) -> None:
    """Queue a delivery again, whatever its state (after a mapping fix, for instance)."""
    with transaction.atomic():
        WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEventStatus.RECEIVED, last_error="")
        _enqueue(event.pk)


def webhook_events_sweep() -> int:
    """Re-enqueue deliveries still unprocessed after STUCK_AFTER (an on-commit dispatch can be lost)."""
    stuck = list(
        WebhookEvent.objects.filter(
            status=WebhookEventStatus.RECEIVED, received_at__lt=timezone.now() - STUCK_AFTER
        ).values_list("pk", flat=True)[:1000]
    )
    with transaction.atomic():
        for event_id in stuck:
            _enqueue(event_id)
    return len(stuck)


PRUNE_CHUNK = 5000


def webhook_events_prune() -> int:
    """Delete deliveries processed or ignored more than WEBHOOK_INBOX_RETENTION_DAYS ago, in short
    transactions; failed and unprocessed ones stay until they are dealt with. Returns the rows deleted."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_INBOX_RETENTION_DAYS)
    done = (WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED)
    deleted = 0
    while True:
        chunk = list(
            WebhookEvent.objects.filter(status__in=done, received_at__lt=cutoff).values_list("pk", flat=True)[
                :PRUNE_CHUNK
            ]
        )
        if not chunk:
            return deleted
        deleted += WebhookEvent.objects.filter(pk__in=chunk).delete()[0]
