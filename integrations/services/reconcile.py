"""Reconcile: page the processor's API from the watermark minus an overlap through the same upserts.

One run per connection at a time, through a lease on the connection row taken with a conditional
UPDATE (atomic on PostgreSQL and SQLite alike; a crashed worker's lease simply expires). Requests for a
run coalesce: while one is queued or running for the connection, asking again returns it.
"""

import logging
import math
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from integrations.models import (
    ConnectionStatus,
    FirstSeenVia,
    Order,
    OrderStatus,
    ProcessorConnection,
    Subscription,
    SyncRun,
    SyncRunKind,
    SyncRunStatus,
)
from integrations.models.ledger import TERMINAL_SUBSCRIPTION_STATUSES
from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import Failure, PayloadInvalid, ProcessorError, ProcessorRejected
from integrations.processors.registry import get_adapter
from integrations.processors.types import Ignored, OrderChange, SubscriptionChange, Unreadable
from integrations.services.ledger import change_apply
from trackrev.common.errors import ApplicationError
from trackrev.outbox.services import notifications_enqueue

logger = logging.getLogger(__name__)

RECONCILE_TASK = "integrations.connection_reconcile"
OVERLAP = timedelta(hours=2)
# A run renews its lease at every page and every object it asks for again: 15 minutes is far more than
# one request with its retries (integrations.processors.http), so only a run that died loses it.
LEASE = timedelta(minutes=15)
# A worker takes a queued run within seconds; one still queued after this lost its message.
QUEUED_TIMEOUT = timedelta(minutes=30)
# What people may ask for (the API and the page's "Sync now"): a new run a minute after the last ended.
SYNC_COOLDOWN = timedelta(minutes=1)
ACTIVE_STATUSES = (SyncRunStatus.QUEUED, SyncRunStatus.RUNNING)
# A failed run's `last_error` is a Failure category, or this when the error was ours.
INTERNAL_ERROR = "Stopped by an internal error: staff can find it in the server log."


class SyncRunThrottled(ApplicationError):
    def __init__(self, *, retry_after: int):
        super().__init__(f"This connection finished a sync less than a minute ago: try again in {retry_after} s.")
        self.retry_after = retry_after


class DemoConnectionSync(ApplicationError):
    def __init__(self):
        super().__init__("Demo connection: nothing to sync, its orders are sample data.")


def connections_reconcilable() -> QuerySet[ProcessorConnection]:
    """What the hourly job and the `reconcile` command poll: active connections with an account behind them."""
    return ProcessorConnection.objects.filter(status=ConnectionStatus.ACTIVE, is_demo=False)


def sync_run_queue(*, connection: ProcessorConnection, kind: str = SyncRunKind.RECONCILE) -> SyncRun:
    """A new run, handed to a worker through the outbox (a broker outage delays it, never loses it).
    Raises DemoConnectionSync for a demo connection: every run starts here, so none calls a processor for it."""
    if connection.is_demo:
        raise DemoConnectionSync()
    run = SyncRun.objects.create(workspace_id=connection.workspace_id, connection=connection, kind=kind)
    notifications_enqueue(tasks=[RECONCILE_TASK], subject_ids=[run.pk])
    return run


@transaction.atomic
def sync_run_request(*, connection: ProcessorConnection) -> SyncRun:
    """A person's "sync now": the run queued or running for the connection, else a new one; raises
    SyncRunThrottled within SYNC_COOLDOWN of the previous run's end, DemoConnectionSync for a demo one."""
    return _sync_run_coalesce(connection, cooldown=SYNC_COOLDOWN)


def connections_reconcile_queue() -> list[SyncRun]:
    """The hourly job: a run for each active connection, unless one is queued or running already."""
    runs = []
    for connection in connections_reconcilable():
        with transaction.atomic():
            runs.append(_sync_run_coalesce(connection, cooldown=None))
    return runs


def _sync_run_coalesce(connection: ProcessorConnection, *, cooldown: timedelta | None) -> SyncRun:
    # The connection row's lock serializes requests, so concurrent ones make one run between them.
    locked = ProcessorConnection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
    if locked.is_demo:  # before the cooldown: the demo's sample runs must not answer "synced a minute ago"
        raise DemoConnectionSync()
    now = timezone.now()
    replaced = _dead_runs_fail(locked, now=now)
    active = SyncRun.objects.filter(connection=locked, status__in=ACTIVE_STATUSES).order_by("-queued_at", "-id")
    if (run := active.first()) is not None:
        return run
    if cooldown and not replaced:  # a replaced run's owner has waited long enough
        _cooldown_check(locked, now=now, cooldown=cooldown)
    return sync_run_queue(connection=locked)


def _cooldown_check(connection: ProcessorConnection, *, now: datetime, cooldown: timedelta) -> None:
    ended = SyncRun.objects.filter(connection=connection).aggregate(last=Max("finished_at"))["last"]
    if ended is not None and now < ended + cooldown:
        raise SyncRunThrottled(retry_after=math.ceil((ended + cooldown - now).total_seconds()))


def _dead_runs_fail(connection: ProcessorConnection, *, now: datetime) -> bool:
    """Fail the connection's runs that will never finish, so that a new one can start (otherwise one lost
    message or crashed worker would block every later sync). True when there were any."""
    runs = SyncRun.objects.filter(connection=connection)
    lost = runs.filter(status=SyncRunStatus.QUEUED, queued_at__lt=now - QUEUED_TIMEOUT)
    dead = lost.update(
        status=SyncRunStatus.FAILED,
        finished_at=now,
        errors=F("errors") + 1,
        last_error=f"Never started: no worker took it within {QUEUED_TIMEOUT.seconds // 60} minutes.",
    )
    if connection.sync_locked_until is None or connection.sync_locked_until < now:
        dead += runs.filter(status=SyncRunStatus.RUNNING).update(
            status=SyncRunStatus.FAILED,
            finished_at=now,
            errors=F("errors") + 1,
            last_error=f"Stopped without finishing: its worker made no progress for {LEASE.seconds // 60} minutes.",
        )
    return dead > 0


def _lease_acquire(connection_id: int) -> bool:
    now = timezone.now()
    free = Q(sync_locked_until__isnull=True) | Q(sync_locked_until__lt=now)
    return ProcessorConnection.objects.filter(free, pk=connection_id).update(sync_locked_until=now + LEASE) == 1


def _lease_renew(connection_id: int) -> None:
    # Each step of a run extends its lease: only a run that stopped making progress loses it.
    ProcessorConnection.objects.filter(pk=connection_id).update(sync_locked_until=timezone.now() + LEASE)


def _lease_release(connection_id: int) -> None:
    ProcessorConnection.objects.filter(pk=connection_id).update(sync_locked_until=None)


def _count(run: SyncRun, change, result) -> None:
    if isinstance(change, Ignored):
        return
    run.fetched += 1
    if isinstance(change, Unreadable):
        # The reason may quote the processor's data: the log has it, the run only the category.
        logger.warning("reconcile of connection %s skipped an object: %s", run.connection_id, change.reason)
        run.errors += 1
        run.last_error = Failure.UNREADABLE
        return
    if result.created:
        run.created += 1
        if isinstance(change, OrderChange):
            run.missed_by_webhook += 1  # the poll is the first to see it: no webhook delivered it
    elif result.changed:
        run.updated += 1


def _refresh_pending_orders(run: SyncRun, adapter: ProcessorAdapter, *, before) -> None:
    # Orders can turn paid long after creation (renewals start pending) and the list has no
    # "modified since" filter: ask for each order still pending from before the window.
    pending = Order.objects.filter(
        connection=run.connection, status=OrderStatus.PENDING, placed_at__lt=before
    ).values_list("external_id", flat=True)
    _refetch(run, adapter, pending, lambda external_id: OrderChange(adapter.fetch_order(external_id=external_id)))


def _refresh_unlisted_subscriptions(run: SyncRun, adapter: ProcessorAdapter, *, listed: set[str]) -> None:
    # The poll lists every open subscription (the adapter contract): one held open here that it did not
    # return has ended, or moved to a state nothing lists, maybe with no date the list can filter on.
    held_open = (
        Subscription.objects.filter(connection=run.connection)
        .exclude(status__in=TERMINAL_SUBSCRIPTION_STATUSES)
        .order_by("source_updated_at", "pk")
        .values_list("external_id", flat=True)
    )
    unlisted = [external_id for external_id in held_open.iterator() if external_id not in listed]
    _refetch(
        run,
        adapter,
        unlisted,
        lambda external_id: SubscriptionChange(adapter.fetch_subscription(external_id=external_id)),
    )


def _refetch(run: SyncRun, adapter: ProcessorAdapter, external_ids, fetch) -> None:
    """Ask the API again for each of `external_ids` (a minute of its rate limit at most, per run: the rest
    next run) and apply what it says."""
    for external_id in external_ids[: adapter.requests_per_minute]:
        try:
            change = fetch(external_id)
        except PayloadInvalid as exc:  # one unreadable object is an error of the run, not its end
            change = Unreadable(str(exc))
        except ProcessorRejected as exc:
            if exc.status_code != 404:
                raise
            change = Unreadable(f"{external_id} is gone from the API")
        _count(run, change, change_apply(connection=run.connection, change=change, via=FirstSeenVia.POLL))
        _lease_renew(run.connection_id)


def sync_run_execute(*, sync_run_id: int, adapter: ProcessorAdapter | None = None) -> SyncRun:
    run = SyncRun.objects.select_related("connection").get(pk=sync_run_id)
    if run.status != SyncRunStatus.QUEUED:
        return run  # a redelivered task: the run already happened
    if not _lease_acquire(run.connection_id):
        run.status, run.finished_at = SyncRunStatus.SKIPPED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
        return run
    try:
        _run(run, adapter)
    finally:
        _lease_release(run.connection_id)
    return run


def _run(run: SyncRun, adapter: ProcessorAdapter | None) -> None:
    connection = ProcessorConnection.objects.get(pk=run.connection_id)
    run.connection = connection
    started = timezone.now()
    since = (
        connection.reconciled_through - OVERLAP
        if connection.reconciled_through
        else started - timedelta(days=connection.backfill_days)
    )
    run.status, run.started_at, run.window_start, run.window_end = SyncRunStatus.RUNNING, started, since, started
    run.save()
    try:
        adapter = adapter or get_adapter(connection)
        listed = set()
        for page in adapter.list_changes(since=since):
            with transaction.atomic():
                for change in page.changes:
                    _count(run, change, change_apply(connection=connection, change=change, via=FirstSeenVia.POLL))
                    if isinstance(change, SubscriptionChange):
                        listed.add(change.subscription.external_id)
                run.pages += 1
                run.progress = f"{page.resource}: page {page.page} of {max(page.pages, page.page)}"
                run.save()
            _lease_renew(connection.pk)  # outside the page's transaction: the row stays locked briefly
        if Repair.PENDING_ORDERS in adapter.repairs:
            _refresh_pending_orders(run, adapter, before=since)
        if Repair.UNLISTED_SUBSCRIPTIONS in adapter.repairs:
            _refresh_unlisted_subscriptions(run, adapter, listed=listed)
    except Exception as exc:  # the run must never stay "running"; unexpected errors still propagate
        logger.warning("reconcile of connection %s failed: %s", connection.pk, exc)
        failure = exc.failure if isinstance(exc, ProcessorError) else INTERNAL_ERROR
        run.status, run.errors, run.last_error = SyncRunStatus.FAILED, run.errors + 1, failure
        run.finished_at = timezone.now()
        run.save()
        if not isinstance(exc, ProcessorError):
            raise
        return
    else:
        run.status = SyncRunStatus.SUCCEEDED
        # Only a complete run moves the watermark (to when it started: later changes are next run's).
        ProcessorConnection.objects.filter(pk=connection.pk).update(reconciled_through=started)
    run.finished_at = timezone.now()
    run.save()
