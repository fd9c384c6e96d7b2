"""Monthly event usage: the pixel counts page views in the shared cache (no database write per
hit), a periodic job copies the totals into UsageMonth, and the Free plan's quota reads them.

The counter key holds the month's total, seeded from UsageMonth when absent (first hit of the month,
or after the cache lost it), so a lost cache costs at most the hits since the last flush.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from trackrev.common.counters import counters_incr
from trackrev.workspaces.models import Plan, UsageMonth, Workspace

FREE_MONTHLY_EVENTS = 1000
COUNTER_TTL = 60 * 60 * 24 * 40  # outlives its month, so the last flush of the month still sees it


def month_start(when: dt.datetime | None = None) -> dt.date:
    return (when or timezone.now()).astimezone(dt.UTC).date().replace(day=1)


def usage_key(workspace_id: int, month: dt.date) -> str:
    return f"usage:{workspace_id}:{month:%Y%m}"


def _stored(workspace_id: int, month: dt.date) -> int:
    row = UsageMonth.objects.filter(workspace_id=workspace_id, month=month).values_list("events", flat=True)
    return row.first() or 0


def usage_event_record(*, workspace_id: int, now: dt.datetime | None = None) -> int:
    """Count one event; returns the month's total including it."""
    [total] = counters_incr([(usage_key(workspace_id, month_start(now)), COUNTER_TTL)])
    return usage_counter_seed(workspace_id=workspace_id, total=total, now=now)


def usage_counter_seed(*, workspace_id: int, total: int, now: dt.datetime | None = None) -> int:
    """A counter that just started (`total` 1) is the month's first event or a counter the cache
    lost: continue from the stored total. Returns the month's total."""
    if total != 1:
        return total
    month = month_start(now)
    stored = _stored(workspace_id, month)
    if stored:
        [total] = counters_incr([(usage_key(workspace_id, month), COUNTER_TTL)], amount=stored)
    return total


def usage_month_events(*, workspace_id: int, now: dt.datetime | None = None) -> int:
    """The month's events so far: the live counter, else the last flushed total."""
    month = month_start(now)
    live = cache.get(usage_key(workspace_id, month))
    return live if live is not None else _stored(workspace_id, month)


def plan_quota(plan: str) -> int:
    """Monthly events whose touches are stored; 0 means no limit."""
    return FREE_MONTHLY_EVENTS if plan == Plan.FREE else 0


def quota_exceeded(*, plan: str, events: int) -> bool:
    """Past the Free plan's monthly events, new touches are not stored (hits still answer 204)."""
    quota = plan_quota(plan)
    return bool(quota) and events > quota


def usage_flush(*, workspace_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    """Copy live counters of this month and the previous one into UsageMonth; never lowers a
    stored total. Returns how many rows changed."""
    now = now or timezone.now()
    this_month = month_start(now)
    months = (this_month, month_start(dt.datetime.combine(this_month, dt.time(), dt.UTC) - dt.timedelta(days=1)))
    ids = list(workspace_ids) if workspace_ids is not None else list(Workspace.objects.values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        keys = {usage_key(ws, month): (ws, month) for ws in batch for month in months}
        live = {keys[k]: v for k, v in cache.get_many(list(keys)).items()}
        if live:
            changed += _store(live, now)
    return changed


@transaction.atomic
def _store(live: dict[tuple[int, dt.date], int], now: dt.datetime) -> int:
    rows = UsageMonth.objects.select_for_update().filter(
        workspace_id__in={ws for ws, _ in live}, month__in={m for _, m in live}
    )
    stored = {(r.workspace_id, r.month): r for r in rows}
    changed = 0
    for (workspace_id, month), events in live.items():
        row = stored.get((workspace_id, month))
        if row is None:
            UsageMonth.objects.create(workspace_id=workspace_id, month=month, events=events, last_event_at=now)
        elif events > row.events:
            row.events, row.last_event_at = events, now
            row.save(update_fields=["events", "last_event_at"])
        else:
            continue
        changed += 1
    return changed


def usage_last_event_at(*, workspace_id: int, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the pixel last counted an event, to the flush interval: `now` while the live counter is
    ahead of the stored total."""
    now = now or timezone.now()
    month = month_start(now)
    live = cache.get(usage_key(workspace_id, month))
    row = UsageMonth.objects.filter(workspace_id=workspace_id).order_by("-month").first()
    if live is not None and (row is None or row.month != month or live > row.events):
        return now
    return row.last_event_at if row else None
