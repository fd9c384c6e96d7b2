"""The overview's revenue chart, server-rendered: geometry and labels are computed here and drawn by the
template as SVG attributes (no JavaScript, no inline styles, so it works under the strict CSP).

One bar per day up to DAILY_UP_TO days, per week beyond. Every bar carries its full reading (dates,
revenue, orders) as an SVG `<title>`, a tooltip without JavaScript, over the whole height of its slot so
that small bars can be read too. Labels are drawn only where they fit: a day under every k-th bar, and
the amounts over the bars only when every one fits its bar (else the top of the scale is labelled)."""

import math
from dataclasses import dataclass
from datetime import date

from attribution.selectors.reports import DayRevenue
from trackrev.common.display import day_display, day_range_display, number_display
from trackrev.common.money import money_display

WIDTH, HEIGHT, TOP, BOTTOM, GAP = 640, 220, 24, 34, 8
AXIS_Y = HEIGHT - BOTTOM + 2
TICK_Y = HEIGHT - 14
DAILY_UP_TO = 60
CHAR_WIDTH = 6.5  # a label character at the chart's 11 px, generously: labels never touch
LABEL_PADDING = 12


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    revenue_usd_minor: int
    orders: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    slot_x: float
    slot_width: float
    center: float
    value_y: float
    tooltip: str
    value_label: str  # "" for an empty bar, and for all when the amounts do not fit over the bars
    tick: str  # the day under the bar, "" for the bars between labelled ones


@dataclass(frozen=True)
class Chart:
    unit: str  # "day" or "week"
    bars: list[Bar]
    revenue_usd_minor: int
    orders: int
    scale_label: str  # the amount at the top of the plot, when the bars carry none
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP
    scale_y: int = TOP - 6
    axis_y: int = AXIS_Y
    tick_y: int = TICK_Y


def revenue_buckets(days: list[DayRevenue]) -> tuple[str, list[Bucket]]:
    """The days as they are, or weeks from the period's first day (the last one may be shorter)."""
    if len(days) <= DAILY_UP_TO:
        return "day", [Bucket(d.date, d.date, d.revenue_usd_minor, d.orders) for d in days]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return "week", [
        Bucket(w[0].date, w[-1].date, sum(d.revenue_usd_minor for d in w), sum(d.orders for d in w)) for w in weeks
    ]


def _label_width(text: str) -> float:
    return len(text) * CHAR_WIDTH + LABEL_PADDING


def _tooltip(bucket: Bucket, currency: str) -> str:
    days = day_range_display(bucket.start, bucket.end)
    orders = f"{number_display(bucket.orders)} order{'' if bucket.orders == 1 else 's'}"
    return f"{days}: {money_display(bucket.revenue_usd_minor, currency)} · {orders}"


def revenue_chart(days: list[DayRevenue], currency: str) -> Chart:
    """Bars scaled to the largest bucket; an empty bucket gets a hairline."""
    unit, buckets = revenue_buckets(days)
    if not buckets:
        return Chart(unit, [], 0, 0, "")
    slot = WIDTH / len(buckets)
    gap = min(GAP, slot / 4)
    top = max(b.revenue_usd_minor for b in buckets)
    plot = HEIGHT - TOP - BOTTOM
    values = [money_display(b.revenue_usd_minor, currency) for b in buckets]
    show_values = max(_label_width(v) for v in values) <= slot
    ticks = [day_display(b.start) for b in buckets]
    # Labels as wide as the widest, centred under their bars, whole inside the chart, never touching.
    half = max(_label_width(t) for t in ticks) / 2
    every = math.ceil(2 * half / slot)
    first = math.ceil(max(0.0, half - slot / 2) / slot)
    bars = []
    for i, (bucket, value, tick) in enumerate(zip(buckets, values, ticks, strict=True)):
        height = max(1.0, plot * bucket.revenue_usd_minor / top) if bucket.revenue_usd_minor > 0 else 1.0
        center = i * slot + slot / 2
        labelled = i >= first and (i - first) % every == 0 and center + half <= WIDTH
        bars.append(
            Bar(
                x=round(i * slot + gap / 2, 1),
                y=round(TOP + plot - height, 1),
                width=round(slot - gap, 1),
                height=round(height, 1),
                slot_x=round(i * slot, 1),
                slot_width=round(slot, 1),
                center=round(center, 1),
                value_y=round(TOP + plot - height - 6, 1),
                tooltip=_tooltip(bucket, currency),
                value_label=value if show_values and bucket.revenue_usd_minor else "",
                tick=tick if labelled else "",
            )
        )
    return Chart(
        unit=unit,
        bars=bars,
        revenue_usd_minor=sum(b.revenue_usd_minor for b in buckets),
        orders=sum(b.orders for b in buckets),
        scale_label="" if show_values or not top else money_display(top, currency),
    )
