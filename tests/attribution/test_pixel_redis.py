"""The production ingest path with Redis as the cache: one Lua round trip per hit (rate limit, usage,
buffer), then `touches_flush` stores the buffered landings exactly once. Needs a real Redis: the one
of CELERY_BROKER_URL (CI starts it; see the `redis_url` fixture), under a key prefix of its own."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.cache import caches
from django.test import override_settings

from attribution.models import Touch, Visitor
from attribution.pixel.buffer import buffer_length, redis_cache
from attribution.services.pixel import touches_flush
from attribution.tasks import touches_flush as touches_flush_task
from tests.attribution.pixel_helpers import hit, post
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.models import UsageMonth
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, usage_flush, usage_month_events

pytestmark = [pytest.mark.broker, pytest.mark.django_db]
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def redis_cache_settings(redis_url):
    prefix = f"test-pixel-{uuid.uuid4().hex}"
    caches_setting = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=caches_setting):
        assert redis_cache() is not None
        yield
        client = caches["default"]._cache.get_client(write=True)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def landing(workspace, n):
    return hit(workspace, u=f"https://shop.example.com/?utm_source=newsletter&utm_medium=email&n={n}", v=f"{n:032d}")


@time_machine.travel(NOW, tick=False)
def test_landings_are_buffered_then_flushed_exactly_once(client, workspace, django_assert_num_queries):
    post(client, landing(workspace, 0))  # warms the workspace cache
    with django_assert_num_queries(0):  # the hot path writes nothing to the database
        for n in range(1, 5):
            assert post(client, landing(workspace, n)).status_code == 204
        assert post(client, hit(workspace, s=False)).status_code == 204  # a plain view is not buffered
    assert buffer_length(redis_cache()) == 5
    assert not Touch.objects.exists()
    assert touches_flush_task() == 5
    assert buffer_length(redis_cache()) == 0
    touches = Touch.objects.order_by("occurred_at")
    assert touches.count() == 5 and Visitor.objects.count() == 5
    assert {t.channel for t in touches} == {"Newsletter"}
    assert all(t.hit_id and t.occurred_at == NOW for t in touches)
    assert usage_month_events(workspace_id=workspace.pk) == 6


def test_a_replayed_batch_stores_nothing_twice(client, workspace):
    for n in range(3):
        post(client, landing(workspace, n))
    backend = redis_cache()
    key = backend.make_and_validate_key("pixel:buffer")
    client_redis = backend._cache.get_client(write=True)
    saved = client_redis.lrange(key, 0, -1)
    assert touches_flush() == 3
    client_redis.rpush(key, *saved)  # as if the flusher died after its commit, before trimming
    touches_flush()
    assert Touch.objects.count() == 3


def test_only_one_flusher_at_a_time(client, workspace):
    post(client, landing(workspace, 1))
    caches["default"].add("pixel:flush-lock", 1, timeout=60)
    assert touches_flush() == 0
    caches["default"].delete("pixel:flush-lock")
    assert touches_flush() == 1


def test_malformed_buffer_items_are_skipped(client, workspace):
    post(client, landing(workspace, 1))
    backend = redis_cache()
    backend._cache.get_client(write=True).rpush(backend.make_and_validate_key("pixel:buffer"), b"{oops", b'{"ws": 1}')
    assert touches_flush() == 1
    assert buffer_length(backend) == 0


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=2)
def test_rate_limit_in_the_script(client, workspace):
    statuses = [post(client, landing(workspace, n)).status_code for n in range(4)]
    assert statuses == [204, 204, 429, 429]
    touches_flush()
    assert Touch.objects.count() == 2
    assert usage_month_events(workspace_id=workspace.pk) == 2  # refused hits are not counted


@time_machine.travel(NOW, tick=False)
def test_free_quota_in_the_script(client):
    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS - 2)
    post(client, hit(workspace, s=False))  # the counter starts from the stored total: event 999
    for n in range(3):
        assert post(client, landing(workspace, n)).status_code == 204  # events 1000, 1001, 1002
    touches_flush()
    assert Touch.objects.count() == 1
    assert usage_month_events(workspace_id=workspace.pk) == FREE_MONTHLY_EVENTS + 2
    usage_flush()
    assert UsageMonth.objects.get(workspace=workspace).events == FREE_MONTHLY_EVENTS + 2
