"""The production ingest path with Redis as the cache: one Lua round trip per hit (rate limit, usage,
buffer), then `touches_flush` stores the buffered landings exactly once, however flushers overlap,
stall or die. Needs a real Redis: the one of CELERY_BROKER_URL (CI starts it; see the `redis_url`
fixture), under a key prefix of its own."""

import datetime as dt
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.connection
import time_machine
from django.core.cache import caches
from django.db import OperationalError, connections
from django.test import override_settings

from attribution.models import Touch, Visitor
from attribution.pixel.buffer import (
    BUFFER_KEY,
    LOCK_KEY,
    PROCESSING_KEY,
    buffer_ack,
    buffer_claim,
    buffer_length,
    flush_lock_release,
    flush_lock_take,
    redis_cache,
)
from attribution.pixel.drops import DropReason
from attribution.selectors.pixel import pixel_drops_recent
from attribution.services import pixel
from attribution.services.pixel import touches_flush
from attribution.tasks import touches_flush as touches_flush_task
from tests.attribution.pixel_helpers import GOOGLEBOT, hit, post
from tests.factories.workspaces import WorkspaceFactory
from tests.workers import wait_until
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


def redis_and_key(name):
    backend = redis_cache()
    return backend._cache.get_client(write=True), backend.make_and_validate_key(name)


def buffered_hit_ids() -> list[str]:
    redis, key = redis_and_key(BUFFER_KEY)
    return [json.loads(item)["h"] for item in redis.lrange(key, 0, -1)]


def test_a_batch_left_by_a_dead_flusher_is_replayed_and_stores_nothing_twice(client, workspace):
    for n in range(3):
        post(client, landing(workspace, n))
    redis, buffer_key = redis_and_key(BUFFER_KEY)
    saved = redis.lrange(buffer_key, 0, -1)
    assert touches_flush() == 3
    _, processing_key = redis_and_key(PROCESSING_KEY)
    redis.rpush(processing_key, *saved)  # as if the flusher died after its commit, before its ack
    post(client, landing(workspace, 3))
    assert touches_flush() == 4  # the dead one's batch first, then the buffer
    assert Touch.objects.count() == 4
    assert buffer_length(redis_cache()) == 0


def test_only_one_flusher_at_a_time(client, workspace):
    post(client, landing(workspace, 1))
    token = flush_lock_take(redis_cache(), ttl_ms=60_000)
    assert touches_flush() == 0
    flush_lock_release(redis_cache(), token=token)
    assert touches_flush() == 1


def test_a_flusher_that_lost_the_lock_claims_removes_and_renews_nothing(client, workspace):
    post(client, landing(workspace, 1))
    backend = redis_cache()
    redis, lock_key = redis_and_key(LOCK_KEY)
    lost = flush_lock_take(backend, ttl_ms=1)
    wait_until(lambda: not redis.exists(lock_key), "the lock never expired", timeout=5)
    flush_lock_take(backend, ttl_ms=30_000)  # the new holder
    assert buffer_claim(backend, token=lost, count=10, ttl_ms=60_000) == []
    assert not buffer_ack(backend, token=lost)
    flush_lock_release(backend, token=lost)
    assert buffer_length(backend) == 1
    assert 0 < redis.pttl(lock_key) <= 30_000  # still the holder's lock, not renewed by the other


def flusher(name: str, **options):
    """`touches_flush` in a thread of its own, named so that a write hook can tell flushers apart."""

    def run() -> int:
        try:
            return touches_flush(batch_size=3, **options)
        finally:
            connections.close_all()

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def flusher_name() -> str:
    return threading.current_thread().name.split("_")[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stalls", ["before its commit", "after its commit"])
def test_a_flusher_stalled_past_its_lock_neither_loses_nor_duplicates_a_hit(client, workspace, monkeypatch, stalls):
    """Flusher A claims a batch and stalls past its (shortened) lock; B takes the lock, replays A's
    batch and stores the rest; more hits arrive; A wakes, stores its batch (again), and stops without
    removing hits it never read. A later flush stores the newcomers: every hit exactly once."""
    for n in range(6):
        post(client, landing(workspace, n))
    pushed = buffered_hit_ids()
    stalled, wake = threading.Event(), threading.Event()
    append = pixel._append

    def stall() -> None:
        stalled.set()
        assert wake.wait(10)

    def write(touches, **kwargs):
        in_a = flusher_name() == "A"
        if in_a and stalls == "before its commit":
            stall()
        append(touches, **kwargs)
        if in_a and stalls == "after its commit":
            stall()

    monkeypatch.setattr(pixel, "_append", write)
    redis, lock_key = redis_and_key(LOCK_KEY)
    a = flusher("A", lock_ttl_ms=200)
    assert stalled.wait(10)
    wait_until(lambda: not redis.exists(lock_key), "A's lock never expired", timeout=5)
    assert flusher("B").result(timeout=10) == 6  # A's batch again, then the other three
    for n in range(6, 9):
        post(client, landing(workspace, n))
    pushed += buffered_hit_ids()
    wake.set()
    assert a.result(timeout=10) == 3  # its own batch, and nothing after it
    assert touches_flush(batch_size=3) == 3  # the hits that arrived while A stalled

    assert len(pushed) == 9
    assert sorted(Touch.objects.values_list("hit_id", flat=True)) == sorted(pushed)
    assert buffer_length(redis_cache()) == 0


@pytest.mark.django_db(transaction=True)
def test_a_flusher_back_from_a_stall_leaves_the_new_holders_batch_alone(client, workspace, monkeypatch):
    """A stalls with batch X past its lock; B replays X, claims Y and stalls; A wakes and stores X but
    must not drop Y from Redis, since B then dies before storing it: a later flush still does."""
    for n in range(6):
        post(client, landing(workspace, n))
    pushed = buffered_hit_ids()
    a_stalled, wake_a, b_stalled, a_done = (threading.Event() for _ in range(4))
    append = pixel._append
    b_writes = []

    def write(touches, **kwargs):
        if flusher_name() == "A":
            a_stalled.set()
            assert wake_a.wait(10)
        elif flusher_name() == "B":
            b_writes.append(touches)
            if len(b_writes) == 2:
                b_stalled.set()
                assert a_done.wait(10)
                raise OperationalError("server closed the connection unexpectedly")
        append(touches, **kwargs)

    monkeypatch.setattr(pixel, "_append", write)
    redis, lock_key = redis_and_key(LOCK_KEY)
    a = flusher("A", lock_ttl_ms=200)
    assert a_stalled.wait(10)
    wait_until(lambda: not redis.exists(lock_key), "A's lock never expired", timeout=5)
    b = flusher("B")
    assert b_stalled.wait(10)
    wake_a.set()
    assert a.result(timeout=10) == 3
    a_done.set()
    with pytest.raises(OperationalError):
        b.result(timeout=10)
    assert touches_flush(batch_size=3) == 3  # Y, which B had claimed and never stored

    assert sorted(Touch.objects.values_list("hit_id", flat=True)) == sorted(pushed)
    assert buffer_length(redis_cache()) == 0


def test_the_page_view_path_follows_the_cache_backend(client, workspace):
    # Chosen once, not per hit; a change of CACHES (here, in tests) chooses again.
    assert pixel._page_view_ingest() is pixel._page_view_buffer
    post(client, landing(workspace, 1))
    assert buffer_length(redis_cache()) == 1 and not Touch.objects.exists()
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        assert pixel._page_view_ingest() is pixel._page_view_append
        post(client, landing(workspace, 2))
        assert Touch.objects.count() == 1
    post(client, landing(workspace, 3))
    assert buffer_length(redis_cache()) == 2 and Touch.objects.count() == 1


def test_malformed_buffer_items_are_skipped(client, workspace):
    post(client, landing(workspace, 1))
    backend = redis_cache()
    backend._cache.get_client(write=True).rpush(backend.make_and_validate_key(BUFFER_KEY), b"{oops", b'{"ws": 1}')
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


class RoundTrips:
    """Requests sent to Redis, counted where redis-py writes them to the socket (a pipeline is one)."""

    def __init__(self, monkeypatch):
        self.count = 0
        send = redis.connection.AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):
            self.count += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)

    def of(self, action) -> int:
        before = self.count
        action()
        return self.count - before


@time_machine.travel(NOW, tick=False)
@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=5)
def test_only_a_dropped_hit_pays_for_its_count(client, monkeypatch):
    """An accepted hit is one round trip, as before drops were counted; a dropped one is two at most."""
    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS - 3)
    post(client, hit(workspace, s=False))  # warms the workspace, the script and the connection; event 998
    trips = RoundTrips(monkeypatch)

    assert trips.of(lambda: post(client, landing(workspace, 1))) == 1  # event 999: rate, usage, buffer
    assert trips.of(lambda: post(client, hit(workspace, s=False))) == 1  # event 1000
    assert trips.of(lambda: post(client, landing(workspace, 2))) == 2  # past the quota: + the drop
    assert trips.of(lambda: post(client, landing(workspace, 3), ua=GOOGLEBOT)) == 1  # the drop only
    assert trips.of(lambda: post(client, landing(workspace, 4))) == 2  # quota
    assert trips.of(lambda: post(client, landing(workspace, 5))) == 2  # rate limit: 6th this minute
    assert [(r.reason, r.count) for r in pixel_drops_recent(workspace_id=workspace.pk).rows] == [
        (DropReason.AUTOMATED, 1),
        (DropReason.QUOTA, 2),
        (DropReason.RATE_LIMIT, 1),
    ]
