"""The webhook inbox: store verified deliveries raw, then process them in a task (idempotent, replayable)."""

import functools
import logging
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from integrations.dispatch import webhook_event_dispatch
from integrations.models import ConnectionStatus, ProcessorConnection, WebhookEvent, WebhookEventStatus
from integrations.processors.base import ProcessorAdapter
from integrations.processors.errors import ProcessorUnavailable
from integrations.processors.registry import get_adapter
from integrations.processors.signing import lower_headers, sha256_hex
from integrations.services.ledger import change_apply

logger = logging.getLogger(__name__)

KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "user-agent", "content-type")
STUCK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Received:
    event: WebhookEvent
    duplicate: bool


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
) -> Received:
    """Insert a verified delivery under unique (connection, delivery id); a repeat stores nothing new."""
    event_type = adapter.event_type(payload=payload)
    handled = adapter.handles(event_type)
    kept = {name: value for name, value in lower_headers(headers).items() if name in KEPT_HEADERS}
    event = WebhookEvent(
        workspace_id=connection.workspace_id,
        connection=connection,
        processor=connection.processor,
        delivery_id=adapter.delivery_id(body=body, headers=headers),
        event_type=event_type,
        headers=kept,
        body=body.decode("utf-8"),
        body_sha256=sha256_hex(body),
        status=WebhookEventStatus.RECEIVED if handled else WebhookEventStatus.IGNORED,
        processed_at=None if handled else timezone.now(),
    )
    event.pk = _insert_unless_seen(event)
    if event.pk is None:
        return Received(event=None, duplicate=True)
    if handled:
        _enqueue(event.pk)
    return Received(event=event, duplicate=False)


def _insert_unless_seen(event: WebhookEvent) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the acknowledgement's one statement (PostgreSQL and
    SQLite ≥ 3.35), with no transaction or savepoint round trips and no exception for a duplicate."""
    db = connections[router.db_for_write(WebhookEvent)]
    fields = _insert_fields()
    values = [field.get_db_prep_save(field.pre_save(event, add=True), connection=db) for field in fields]
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(db.vendor), values)
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _insert_fields() -> list:
    return [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]


@functools.cache
def _insert_sql(vendor: str) -> str:
    quote = connections[router.db_for_write(WebhookEvent)].ops.quote_name
    # Identifiers come from the model and are quoted; every value is a parameter.
    return "INSERT INTO {table} ({columns}) VALUES ({params}) ON CONFLICT ({unique}) DO NOTHING RETURNING {pk}".format(  # noqa: S608
        table=quote(WebhookEvent._meta.db_table),
        columns=", ".join(quote(field.column) for field in _insert_fields()),
        params=", ".join(["%s"] * len(_insert_fields())),
        unique=", ".join(quote(column) for column in ("connection_id", "delivery_id")),
        pk=quote(WebhookEvent._meta.pk.column),
    )


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
