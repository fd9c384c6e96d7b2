"""How people read numbers and dates on our pages, one format per kind: counts `4,212`, shares `58.1%`, days
`Nov 1, 2026` (ranges `Nov 1, 2026 to Nov 10, 2026`), timestamps `Nov 1, 2026, 14:05 UTC`; money is
`money.money_display` (`USD 1,234.00`). Templates use them through the `formats` library
(`{% load formats %}`: `number`, `day`, `timestamp`, `money`); the API and CSV files keep their
machine formats."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import dateformat, timezone


def number_display(value: int | Decimal, places: int = 0) -> str:
    return f"{value:,.{places}f}"


def percent_display(fraction: float) -> str:
    return f"{fraction:.1%}"


def day_display(value: date) -> str:
    """A moment's day is that of the current time zone, as `timestamp_display` shows it."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return dateformat.format(value, "M j, Y")


def day_range_display(start: date, end: date) -> str:
    """Inclusive; one day is just that day."""
    return day_display(start) if start == end else f"{day_display(start)} to {day_display(end)}"


def timestamp_display(value: datetime) -> str:
    """In the current time zone (UTC unless a view activates another), named, so it is never misread."""
    return dateformat.format(timezone.localtime(value), "M j, Y, H:i T")
