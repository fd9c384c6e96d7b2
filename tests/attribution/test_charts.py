"""The revenue chart's geometry (attribution/charts.py): pure, no database."""

from datetime import date, timedelta
from itertools import pairwise

import pytest

from attribution.charts import CHAR_WIDTH, WIDTH, revenue_chart
from attribution.selectors.reports import DayRevenue


def days(count: int) -> list[DayRevenue]:
    first = date(2026, 1, 1)
    return [DayRevenue(first + timedelta(days=i), 123456 * (i % 4), i % 3) for i in range(count)]


@pytest.mark.parametrize(
    ("count", "unit", "bars"), [(7, "day", 7), (60, "day", 60), (61, "week", 9), (731, "week", 105)]
)
def test_bars_are_days_up_to_60_and_weeks_beyond_and_every_one_has_its_tooltip(count, unit, bars):
    chart = revenue_chart(days(count), "USD")
    assert (chart.unit, len(chart.bars)) == (unit, bars)
    assert all(bar.tooltip for bar in chart.bars) and all(bar.width > 0 for bar in chart.bars)
    assert chart.revenue_usd_minor == sum(d.revenue_usd_minor for d in days(count))
    assert chart.orders == sum(d.orders for d in days(count))


@pytest.mark.parametrize("count", [7, 10, 30, 60, 61, 90, 366, 731])
def test_labels_never_collide_nor_leave_the_chart(count):
    chart = revenue_chart(days(count), "USD")
    boxes = [
        (bar.center - len(bar.tick) * CHAR_WIDTH / 2, bar.center + len(bar.tick) * CHAR_WIDTH / 2)
        for bar in chart.bars
        if bar.tick
    ]
    assert len(boxes) >= 4
    assert boxes[0][0] >= 0 and boxes[-1][1] <= WIDTH
    assert all(left > previous_right for (_, previous_right), (left, _) in pairwise(boxes))
    values = [(bar.width, bar.value_label) for bar in chart.bars if bar.value_label]
    assert all(len(label) * CHAR_WIDTH <= width for width, label in values)  # each within its own bar
    assert bool(values) != bool(chart.scale_label)  # amounts over the bars, or the top of the scale


def test_a_week_reads_its_days_revenue_and_orders():
    chart = revenue_chart(days(90), "USD")
    assert chart.bars[0].tooltip == "Jan 1, 2026 to Jan 7, 2026: USD 11,111.04 · 6 orders"
    assert chart.bars[-1].tooltip == "Mar 26, 2026 to Mar 31, 2026: USD 8,641.92 · 6 orders"  # a six-day week
    assert chart.scale_label == "USD 14,814.72"  # the best week's
