"""Report reads. Revenue and conversions come from the daily rollups of the served version (never
from raw orders or touches); distinct visitors are the exact union of the per-day visitor sets plus
the few touches not folded in yet."""

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Sum
from django.utils import timezone
from pyroaring import BitMap

from attribution.credit_models import WEIGHT_SCALE
from attribution.models import AttributionState, DailyRollup, DailyTotal, VisitorSetDay
from attribution.params import AttributionParams
from attribution.services.visitors import touches_with_visitor_numbers
from trackrev.common.days import day_start
from trackrev.workspaces.models import Workspace

# Rollups hold USD minor units (each order at the ECB rate of its date): reports are in USD, whatever else.
REPORT_CURRENCY = "USD"
GROUP_BY = ("channel", "channel_group", "campaign")
NOT_SET = "(not set)"  # an empty campaign, as analytics tools show it


@dataclass(frozen=True)
class ReportRow:
    name: str
    visitors: int = 0
    conversions: int = 0  # millionths of orders
    revenue_usd_minor: int = 0
    share: float = 0.0  # of the period's revenue, 0..1


@dataclass(frozen=True)
class ChannelReport:
    rows: list[ReportRow]
    visitors: int
    conversions: int
    revenue_usd_minor: int


@dataclass(frozen=True)
class DayRevenue:
    date: date
    revenue_usd_minor: int
    orders: int


@dataclass(frozen=True)
class ComparisonRow:
    name: str
    revenue_usd_minor: dict[str, int] = field(default_factory=dict)  # model → revenue


def workspace_today(workspace: Workspace) -> date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(workspace.timezone))


def served_version(workspace: Workspace) -> int:
    state = AttributionState.objects.filter(workspace=workspace).values_list("version", flat=True).first()
    return state or 1


def served_params(workspace: Workspace) -> AttributionParams:
    """The settings the served credits were computed with (the workspace's own before any credit)."""
    state = AttributionState.objects.filter(workspace=workspace).first()
    return AttributionParams.of(state or workspace)


def _label(value: str) -> str:
    return value or NOT_SET


def _rollups(*, workspace: Workspace, start: date, end: date, processor: str | None):
    rows = DailyRollup.objects.filter(
        workspace=workspace, version=served_version(workspace), day__gte=start, day__lte=end
    )
    return rows.filter(processor=processor) if processor else rows


def visitor_sets(*, workspace: Workspace, start: date, end: date, group_by: str) -> dict[str, BitMap]:
    """Group → the set of Visitor ids that touched it in [start, end] (workspace days)."""
    sets: dict[str, BitMap] = defaultdict(BitMap)
    rows = VisitorSetDay.objects.filter(workspace=workspace, day__gte=start, day__lte=end).values_list(
        group_by, "visitors"
    )
    for name, blob in rows:
        sets[_label(name)] |= BitMap.deserialize(bytes(blob))
    through = AttributionState.objects.filter(workspace=workspace).values_list("touches_through", flat=True).first()
    tail = touches_with_visitor_numbers(
        workspace=workspace,
        after_id=through or 0,
        start=day_start(start, workspace.timezone),
        end=day_start(end + timedelta(days=1), workspace.timezone),
    )
    position = GROUP_BY.index(group_by) + 2
    for row in tail:
        sets[_label(row[position])].add(row[5])
    return sets


def channel_report(
    *, workspace: Workspace, start: date, end: date, model: str, processor: str | None = None, group_by: str = "channel"
) -> ChannelReport:
    """Rows sorted by revenue, then visitors, descending. Orders without touches are `Unattributed`.
    Visitors do not depend on the processor filter (a visit has no processor)."""
    sums = (
        _rollups(workspace=workspace, start=start, end=end, processor=processor)
        .filter(model=model)
        .values(group_by)
        .annotate(usd=Sum("revenue_usd_minor"), conversions=Sum("conversions"))
        .order_by()
    )
    money = {_label(s[group_by]): (s["usd"], s["conversions"]) for s in sums}
    sets = visitor_sets(workspace=workspace, start=start, end=end, group_by=group_by)
    total_usd = sum(usd for usd, _ in money.values())
    rows = [
        ReportRow(
            name=name,
            visitors=len(sets.get(name, ())),
            conversions=money.get(name, (0, 0))[1],
            revenue_usd_minor=money.get(name, (0, 0))[0],
            share=money.get(name, (0, 0))[0] / total_usd if total_usd else 0.0,
        )
        for name in money.keys() | sets.keys()
    ]
    rows.sort(key=lambda r: (-r.revenue_usd_minor, -r.visitors, r.name))
    everyone = BitMap.union(*sets.values()) if sets else BitMap()
    return ChannelReport(
        rows=rows,
        visitors=len(everyone),
        conversions=sum(r.conversions for r in rows),
        revenue_usd_minor=total_usd,
    )


def _totals(*, workspace: Workspace, start: date, end: date, processor: str | None):
    rows = DailyTotal.objects.filter(
        workspace=workspace, version=served_version(workspace), day__gte=start, day__lte=end
    )
    return rows.filter(processor=processor) if processor else rows


def revenue_daily(
    *, workspace: Workspace, start: date, end: date, model: str, processor: str | None = None
) -> list[DayRevenue]:
    """One entry per day, oldest first, zero-filled. Every model credits all of each order's revenue,
    so a day's revenue and orders are the same in each: they come from the daily totals. `model` is
    kept for the API's symmetry (and would matter once a report filters by channel)."""
    sums = {
        s["day"]: (s["usd"], s["conversions"])
        for s in _totals(workspace=workspace, start=start, end=end, processor=processor)
        .values("day")
        .annotate(usd=Sum("revenue_usd_minor"), conversions=Sum("conversions"))
        .order_by()
    }
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        usd, conversions = sums.get(day, (0, 0))
        days.append(DayRevenue(date=day, revenue_usd_minor=usd, orders=conversions // WEIGHT_SCALE))
    return days


def workspace_has_reports(*, workspace: Workspace) -> bool:
    """Whether any sale or folded visit was ever rolled up (else the overview shows how to start)."""
    return (
        DailyTotal.objects.filter(workspace=workspace).exists()
        or VisitorSetDay.objects.filter(workspace=workspace).exists()
    )


def model_comparison(
    *, workspace: Workspace, start: date, end: date, processor: str | None = None, group_by: str = "channel"
) -> list[ComparisonRow]:
    """Revenue per group under every model side by side, sorted by the groups' best revenue."""
    rows: dict[str, ComparisonRow] = {}
    sums = (
        _rollups(workspace=workspace, start=start, end=end, processor=processor)
        .values(group_by, "model")
        .annotate(usd=Sum("revenue_usd_minor"))
        .order_by()
    )
    for s in sums:
        name = _label(s[group_by])
        rows.setdefault(name, ComparisonRow(name)).revenue_usd_minor[s["model"]] = s["usd"]
    return sorted(rows.values(), key=lambda r: (-max(r.revenue_usd_minor.values()), r.name))


def native_totals(
    *, workspace: Workspace, start: date, end: date, processor: str | None = None
) -> list[tuple[str, str, int]]:
    """(processor, currency, revenue in that currency's minor units), to reconcile against each
    processor's own dashboard."""
    sums = (
        _totals(workspace=workspace, start=start, end=end, processor=processor)
        .values("processor", "currency")
        .annotate(native=Sum("revenue_minor"))
        .order_by("processor", "currency")
    )
    return [(s["processor"], s["currency"], s["native"]) for s in sums]
