"""`counters_incr` on the caches without Redis: a counter lives its own TTL, not the cache's default."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings

from trackrev.common.counters import counters_incr

NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)
DAY = 24 * 3600


@pytest.fixture(params=["file", "locmem"])
def counters_cache(request, tmp_path):
    backend = {"file": "filebased.FileBasedCache", "locmem": "locmem.LocMemCache"}[request.param]
    config = {"BACKEND": f"django.core.cache.backends.{backend}", "LOCATION": str(tmp_path)}
    with override_settings(CACHES={"default": config}):
        yield


def test_a_counter_outlives_the_default_timeout_and_then_expires(counters_cache):
    with time_machine.travel(NOW, tick=False):
        assert counters_incr([("c", DAY)]) == [1]
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):  # the default timeout is 5 minutes
        assert counters_incr([("c", DAY)], amount=2) == [3]
    with time_machine.travel(NOW + dt.timedelta(hours=12), tick=False):
        assert cache.get("c") == 3
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        assert cache.get("c") is None
        assert counters_incr([("c", DAY), ("d", DAY)]) == [1, 1]
