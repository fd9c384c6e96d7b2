"""The overview's revenue chart (drawn as `trackrev/common/charts.py` lays bars out): one bar per day up
to DAILY_UP_TO days, per week beyond; every bar's tooltip reads its dates, revenue and orders."""

from dataclasses import dataclass
from datetime import date

from attribution.selectors.reports import DayRevenue
from trackrev.common.charts import CHAR_WIDTH, WIDTH, BarChart, Slot, bar_layout
from trackrev.common.display import day_display, day_range_display, number_display
from trackrev.common.money import money_display

__all__ = ["CHAR_WIDTH", "WIDTH", "Chart", "revenue_chart"]

DAILY_UP_TO = 60


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    revenue_usd_minor: int
    orders: int


@dataclass(frozen=True)
class Chart(BarChart):
    unit: str = "day"  # or "week"
    revenue_usd_minor: int = 0
    orders: int = 0


def revenue_buckets(days: list[DayRevenue]) -> tuple[str, list[Bucket]]:
    """The days as they are, or weeks from the period's first day (the last one may be shorter)."""
    if len(days) <= DAILY_UP_TO:
        return "day", [Bucket(d.date, d.date, d.revenue_usd_minor, d.orders) for d in days]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return "week", [
        Bucket(w[0].date, w[-1].date, sum(d.revenue_usd_minor for d in w), sum(d.orders for d in w)) for w in weeks
    ]


def _tooltip(bucket: Bucket, currency: str) -> str:
    days = day_range_display(bucket.start, bucket.end)
    orders = f"{number_display(bucket.orders)} order{'' if bucket.orders == 1 else 's'}"
    return f"{days}: {money_display(bucket.revenue_usd_minor, currency)} · {orders}"


def revenue_chart(days: list[DayRevenue], currency: str) -> Chart:
    unit, buckets = revenue_buckets(days)
    slots = [
        Slot(
            b.revenue_usd_minor,
            money_display(b.revenue_usd_minor, currency),
            day_display(b.start),
            _tooltip(b, currency),
        )
        for b in buckets
    ]
    bars, scale_label = bar_layout(slots, scale_label=lambda top: money_display(top, currency))
    return Chart(
        bars=bars,
        scale_label=scale_label,
        unit=unit,
        revenue_usd_minor=sum(b.revenue_usd_minor for b in buckets),
        orders=sum(b.orders for b in buckets),
    )
