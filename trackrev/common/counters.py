"""Counters in the shared cache (pixel rate limits, usage, dropped hits). On Redis one call is one
round trip (INCR and EXPIRE NX pipelined, on a client kept per cache instance); other backends (the
file cache of embedded mode, the memory cache of tests) go through Django's cache API."""

from collections.abc import Sequence

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache


def redis_client(backend: RedisCache):
    # Django builds a client object per cache operation, which costs more than the round trip.
    client = getattr(backend, "_counter_client", None)
    if client is None:
        client = backend._cache.get_client(write=True)
        backend._counter_client = client
    return client


def counters_incr(keys: Sequence[tuple[str, int]], *, amount: int = 1) -> list[int]:
    """Add `amount` to each `(key, ttl seconds)`; a missing key starts at 0 and lives `ttl` from
    its first increment (from its last one on the file cache). Returns the new values. Readable
    with `cache.get(key)`."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        pipe = redis_client(backend).pipeline(transaction=False)
        for key, ttl in keys:
            full_key = backend.make_and_validate_key(key)
            pipe.incrby(full_key, amount)
            pipe.expire(full_key, ttl, nx=True)
        return pipe.execute()[::2]
    if type(backend).incr is BaseCache.incr:
        return [_incr_by_set(backend, key, ttl, amount) for key, ttl in keys]
    values = []
    for key, ttl in keys:
        try:
            values.append(backend.incr(key, amount))
        except ValueError:
            values.append(amount if backend.add(key, amount, timeout=ttl) else backend.incr(key, amount))
    return values


def _incr_by_set(backend: BaseCache, key: str, ttl: int, amount: int) -> int:
    # A backend without an increment of its own (the file cache) emulates it with a get and a set that
    # forgets the key's expiry (it would then live the cache's default timeout, 5 minutes): set it
    # again, so the key lives `ttl` from its last increment.
    value = backend.get(key)
    if value is None:
        if backend.add(key, amount, timeout=ttl):
            return amount
        value = backend.get(key, 0)  # another process added it meanwhile
    value += amount
    backend.set(key, value, timeout=ttl)
    return value
