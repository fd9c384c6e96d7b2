"""One reconcile run of a connection against a local fake of its processor's API, as the hourly job runs
it, at a fixed time: through the adapter's own HTTP client (its headers, its retry rules), with the waits
it would sleep recorded instead."""

import datetime as dt
import functools

import time_machine

from integrations.models import SyncRun
from integrations.processors.registry import get_adapter
from integrations.services.reconcile import sync_run_execute, sync_run_queue


def reconcile_at(at: dt.datetime, connection, sleeps: list | None = None) -> SyncRun:
    connection.refresh_from_db()  # the previous run moved its watermark
    run = sync_run_queue(connection=connection)
    adapter = get_adapter(connection)
    adapter.http = adapter.http_client(sleep=(sleeps if sleeps is not None else []).append)
    with time_machine.travel(at, tick=False):
        return sync_run_execute(sync_run_id=run.pk, adapter=adapter)


def reconciler(at: dt.datetime):
    """`reconcile(connection, sleeps=None)` at `at`, for a test module's fixed now."""
    return functools.partial(reconcile_at, at)
