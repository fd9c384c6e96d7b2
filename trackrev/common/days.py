"""A workspace's calendar days as instants: reports and date filters count the days of the workspace's
time zone, not UTC's."""

import zoneinfo
from datetime import date, datetime, time


def day_start(day: date, tz_name: str) -> datetime:
    """The first instant of `day` in the time zone `tz_name`; a day is [day_start(d), day_start(d + 1))."""
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(tz_name))
