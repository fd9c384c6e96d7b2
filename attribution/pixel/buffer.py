"""The Redis ingest path. With Redis as the cache (production), a page view costs one round trip:
a Lua script applies the rate limit, counts the event and, within the plan's quota, appends a
possible landing to a Redis list; `touches_flush` (attribution/services/pixel.py) classifies and
inserts the list in batches. Redis holds the hits until they are committed, and each carries a
hit id, so a batch replayed after a crash never duplicates a touch.

Other caches (the file cache of embedded mode, the memory cache of tests) have no such script;
the hot path then writes the touch directly (see hit_ingest).
"""

import json
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from trackrev.common.counters import redis_client

BUFFER_KEY = "pixel:buffer"

# KEYS: rate, usage, buffer. ARGV: rate ttl, rate limit, usage ttl, usage quota (0: none), payload.
# Returns {rate count, usage total (-1 when rate-limited), 1 if buffered else 0}.
_SCRIPT = """
local rate = redis.call('INCR', KEYS[1])
if rate == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if rate > tonumber(ARGV[2]) then return {rate, -1, 0} end
local usage = redis.call('INCR', KEYS[2])
if usage == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
local quota = tonumber(ARGV[4])
if ARGV[5] ~= '' and (quota == 0 or usage <= quota) then
  redis.call('RPUSH', KEYS[3], ARGV[5])
  return {rate, usage, 1}
end
return {rate, usage, 0}
"""


def redis_cache() -> RedisCache | None:
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _script(backend: RedisCache):
    script = getattr(backend, "_pixel_script", None)
    if script is None:
        script = redis_client(backend).register_script(_SCRIPT)
        backend._pixel_script = script
    return script


def hit_payload(*, workspace_id: int, visitor_id: str, url: str, referrer: str, session_start: bool, at: float) -> str:
    return json.dumps(
        {
            "h": secrets.token_hex(16),
            "ws": workspace_id,
            "v": visitor_id,
            "u": url,
            "r": referrer,
            "s": session_start,
            "t": at,
        },
        separators=(",", ":"),
    )


def page_view_count(
    backend: RedisCache,
    *,
    rate_key: str,
    rate_ttl: int,
    rate_limit: int,
    usage_key: str,
    usage_ttl: int,
    quota: int,
    payload: str,
) -> tuple[bool, int]:
    """(allowed by the rate limit, the month's events so far)."""
    keys = [backend.make_and_validate_key(k) for k in (rate_key, usage_key, BUFFER_KEY)]
    _rate, usage, _buffered = _script(backend)(keys=keys, args=[rate_ttl, rate_limit, usage_ttl, quota, payload])
    return usage >= 0, usage


def buffer_read(backend: RedisCache, *, count: int) -> list[bytes]:
    return redis_client(backend).lrange(backend.make_and_validate_key(BUFFER_KEY), 0, count - 1)


def buffer_trim(backend: RedisCache, *, count: int) -> None:
    redis_client(backend).ltrim(backend.make_and_validate_key(BUFFER_KEY), count, -1)


def buffer_length(backend: RedisCache) -> int:
    return redis_client(backend).llen(backend.make_and_validate_key(BUFFER_KEY))
