"""Monthly event usage: events are the pixel's page views and the processors' new orders, counted in
the shared cache (no database write per hit); a periodic job copies the totals into UsageMonth, and
what each flush adds into the day's UsageDay (the usage page's chart); the Free plan's quota reads them.

The counter key holds the month's total, seeded from UsageMonth when absent (first hit of the month,
or after the cache lost it), so a lost cache costs at most the hits since the last flush.

Over the quota only page views stop being stored (the pixel's check): an order is always processed
and attributed, and only counted.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trackrev.common.counters import counters_incr
from trackrev.workspaces.models import Plan, UsageDay, UsageMonth, Workspace

FREE_MONTHLY_EVENTS = 1000
WARN_FROM = 0.8  # the share of the quota from which the pages warn
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


def usage_order_record(*, workspace_id: int, placed_at: dt.datetime) -> None:
    """Count an order the ledger has just created, once its row is committed: a rolled back insert
    counts nothing, and a replay or the reconcile finds the row and creates nothing. It counts in the
    month it was placed; history imported when a processor is connected (placed in earlier, closed
    months) counts nowhere.

    The stored totals take it at once (one order is one small write; a page view is none): so the live
    counter is ahead of them only by page views, which is what tells the pixel's last hit."""

    def record() -> None:
        now = timezone.now()
        month = month_start(now)
        if month_start(placed_at) != month:
            return
        usage_event_record(workspace_id=workspace_id, now=now)  # first: it seeds from the stored total
        with transaction.atomic():
            _, created = UsageMonth.objects.get_or_create(
                workspace_id=workspace_id, month=month, defaults={"events": 1}
            )
            if not created:
                UsageMonth.objects.filter(workspace_id=workspace_id, month=month).update(events=F("events") + 1)
            _day_add(workspace_id, now.astimezone(dt.UTC).date(), 1)

    transaction.on_commit(record)


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


def next_month_start(when: dt.datetime | None = None) -> dt.date:
    """When the count starts again at zero."""
    return (month_start(when) + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class UsageSummary:
    """This month's events against the plan's quota, as the banner and the usage page tell them."""

    plan: str
    events: int
    quota: int  # 0: no limit
    resets_on: dt.date

    @property
    def reached(self) -> bool:
        """Page views are no longer stored (the next one is past the quota)."""
        return bool(self.quota) and self.events >= self.quota

    @property
    def near(self) -> bool:
        return bool(self.quota) and not self.reached and self.events >= self.quota * WARN_FROM

    @property
    def percent(self) -> int:
        return min(100, self.events * 100 // self.quota) if self.quota else 0


def usage_summary(*, workspace: Workspace, now: dt.datetime | None = None) -> UsageSummary:
    return UsageSummary(
        plan=workspace.plan,
        events=usage_month_events(workspace_id=workspace.pk, now=now),
        quota=plan_quota(workspace.plan),
        resets_on=next_month_start(now),
    )


def quota_exceeded(*, plan: str, events: int) -> bool:
    """Past the Free plan's monthly events, new touches are not stored (hits still answer 204)."""
    quota = plan_quota(plan)
    return bool(quota) and events > quota


def usage_flush(*, workspace_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> int:
    """Copy live counters of this month and the previous one into UsageMonth, and what each grew by
    into UsageDay; never lowers a stored total. Returns how many months changed."""
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
            grown = events
        elif events > row.events:
            grown = events - row.events
            row.events, row.last_event_at = events, now
            row.save(update_fields=["events", "last_event_at"])
        else:
            continue
        _day_add(workspace_id, _flush_day(month, now), grown)
        changed += 1
    return changed


def _flush_day(month: dt.date, now: dt.datetime) -> dt.date:
    """The day a flush's growth belongs to: today, or the last day of a month that has just ended (its
    final flush runs in the first minute of the next one)."""
    today = now.astimezone(dt.UTC).date()
    return today if month == month_start(now) else today.replace(day=1) - dt.timedelta(days=1)


def _day_add(workspace_id: int, day: dt.date, events: int) -> None:
    # Under the month row's lock (or its first insert), so nothing adds the same growth twice.
    if not UsageDay.objects.filter(workspace_id=workspace_id, day=day).update(events=F("events") + events):
        UsageDay.objects.create(workspace_id=workspace_id, day=day, events=events)


def usage_days(*, workspace_id: int, now: dt.datetime | None = None) -> list[tuple[dt.date, int]]:
    """This month's days up to today with their events, the part not flushed yet on today."""
    now = now or timezone.now()
    month, today = month_start(now), now.astimezone(dt.UTC).date()
    stored = dict(
        UsageDay.objects.filter(workspace_id=workspace_id, day__gte=month, day__lte=today).values_list("day", "events")
    )
    unflushed = usage_month_events(workspace_id=workspace_id, now=now) - _stored(workspace_id, month)
    stored[today] = stored.get(today, 0) + max(0, unflushed)
    return [(month + dt.timedelta(days=i), stored.get(month + dt.timedelta(days=i), 0)) for i in range(today.day)]


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
