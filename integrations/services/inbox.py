"""The webhook inbox insert on the acknowledgement path: durable before the 202, one commit per batch.

Every acknowledged delivery must be on disk before its 202, and each commit waits for a WAL flush. With
WEBHOOK_GROUP_COMMIT on, request threads hand their rows to one writer thread per process, which
inserts everything that arrived while its previous commit was flushing in one statement (one commit),
then wakes each caller with its row's id. Nothing is answered before its own commit, so durability is
that of a commit per delivery; a batch holds at most one row per request thread of the process.
Off, each request inserts on its own connection (tests: their rows live in a transaction the writer's
connection cannot see).
"""

import functools
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, models
from django.db.models import Field
from django.utils import timezone

from integrations.models import WebhookEvent
from trackrev.common.batching import ProcessBatcher

# A stalled disk can hold a commit for seconds; a late 202 still counts, up to the shortest processor timeout (10 s).
WAIT_SECONDS = 8.0
INBOX_DATABASE = "webhook_inbox"


class InboxUnavailable(Exception):
    """The delivery could not be stored now; the processor should retry."""


@dataclass(eq=False)
class _Pending:
    key: tuple[int, str]
    values: list
    done: threading.Event = field(default_factory=threading.Event)
    pk: int | None = None
    error: Exception | None = None


def inbox_insert(row: dict) -> int | None:
    """Insert a WebhookEvent given as column values by attribute name (the model's defaults fill the
    rest) unless its (connection, delivery id) is stored; its id, or None for a repeat."""
    db = _db()
    row = {"received_at": timezone.now(), **row}
    values = _values(db, row)
    key = (row["connection_id"], row["delivery_id"])
    if not settings.WEBHOOK_GROUP_COMMIT:
        try:
            return _insert_rows(db, [values]).get(key)
        except DatabaseError as exc:
            raise InboxUnavailable(str(exc)) from exc
    pending = _Pending(key=key, values=values)
    _writer.submit(pending)
    if not pending.done.wait(WAIT_SECONDS):
        raise InboxUnavailable("the inbox writer did not commit in time")
    if pending.error is not None:
        raise InboxUnavailable(str(pending.error)) from pending.error
    return pending.pk


def _values(db, row: dict) -> list:
    return [
        value if converter is None else converter.get_db_prep_save(value, db)
        for name, converter, default in _columns()
        for value in (row.get(name, default),)
    ]


def _write(batch: list[_Pending]) -> None:
    """The writer thread: one statement for the batch; a repeat within the batch shares its first copy's
    fate. Every caller is woken, with an id, None (a repeat) or an error."""
    first: dict[tuple[int, str], _Pending] = {}
    for pending in batch:
        first.setdefault(pending.key, pending)
    try:
        _commit_isolating(list(first.values()))
    finally:
        for pending in batch:
            if first[pending.key] is not pending:
                pending.error = first[pending.key].error
            pending.done.set()


def _commit_isolating(rows: list[_Pending]) -> None:
    try:
        _commit(rows)
    except Exception as exc:  # never let a caller read "no id" as "already stored"
        if len(rows) == 1:
            rows[0].error = exc
            return
        for pending in rows:  # one bad row must not fail its neighbours
            _commit_isolating([pending])


def _commit(rows: list[_Pending]) -> None:
    db = _db()
    try:
        ids = _insert_rows(db, [pending.values for pending in rows])
    except (InterfaceError, OperationalError):
        db.close()  # a restarted or dropped server: reconnect once, as the request path's health check would
        ids = _insert_rows(db, [pending.values for pending in rows])
    finally:
        if db.errors_occurred or (db.close_at is not None and time.monotonic() >= db.close_at):
            db.close()  # honour CONN_MAX_AGE and never reuse a connection that failed
    for pending in rows:
        pending.pk = ids.get(pending.key)


_writer = ProcessBatcher(_write, name="webhook-inbox-writer")


def _db():
    """The inbox's own alias of the database: on PostgreSQL it binds values server-side (settings)."""
    return connections[INBOX_DATABASE]


def _insert_rows(db, rows: list[list]) -> dict[tuple[int, str], int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: one statement whatever the number of rows (PostgreSQL
    and SQLite ≥ 3.35), no savepoints, no exception for a repeat. Returns the inserted rows' ids by key."""
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(len(rows)), [value for row in rows for value in row])
        inserted = cursor.fetchall()
    return {(connection_id, delivery_id): pk for connection_id, delivery_id, pk in inserted}


@functools.cache
def _insert_fields() -> list:
    return [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]


@functools.cache
def _columns() -> list[tuple[str, Field | None, object]]:
    """(attribute, the field when its value needs converting for the database, default) per column:
    strings, integers and None go as they are, which saves most of the per-row preparation."""
    converted = (models.JSONField, models.DateTimeField)
    return [(f.attname, f if isinstance(f, converted) else None, f.get_default()) for f in _insert_fields()]


@functools.lru_cache(maxsize=64)
def _insert_sql(rows: int) -> str:
    quote = _db().ops.quote_name
    row = "({})".format(", ".join(["%s"] * len(_insert_fields())))
    # Identifiers come from the model and are quoted; every value is a parameter.
    return "INSERT INTO {table} ({columns}) VALUES {rows} ON CONFLICT ({unique}) DO NOTHING RETURNING {key}".format(  # noqa: S608
        table=quote(WebhookEvent._meta.db_table),
        columns=", ".join(quote(f.column) for f in _insert_fields()),
        rows=", ".join([row] * rows),
        unique=", ".join(quote(column) for column in ("connection_id", "delivery_id")),
        key=", ".join(quote(column) for column in ("connection_id", "delivery_id", WebhookEvent._meta.pk.column)),
    )
