"""The Redis ingest path. With Redis as the cache (production), a page view costs one round trip:
a Lua script applies the rate limit, counts the event and, within the plan's quota, appends a
possible landing to a Redis list; `touches_flush` (attribution/services/pixel.py) classifies and
inserts the list in batches. Redis holds the hits until they are committed, and each carries a
hit id, so a batch replayed after a crash never duplicates a touch.

Flushing is one holder at a time, and safe when a holder stalls past its lock or dies: the lock
holds a random token and is renewed per batch; a batch is moved (atomically) from the buffer to a
processing list, stays there until its commit, and is removed only by the holder whose token is
still the lock's. A new holder first replays what a lost one left in the processing list.

Other caches (the file cache of embedded mode, the memory cache of tests) have no such script;
the hot path then writes the touch directly (see hit_ingest).
"""

import json
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from trackrev.common.counters import redis_client

BUFFER_KEY = "pixel:buffer"
PROCESSING_KEY = "pixel:buffer:processing"
LOCK_KEY = "pixel:flush-lock"

# KEYS: rate, usage, buffer, mode (attribution/pixel/proxy.py: which way the hit came, counted even when
# rate-limited). ARGV: rate ttl, rate limit, usage ttl, usage quota (0: none), payload, mode ttl.
# Returns {rate count, usage total (-1 when rate-limited), 1 if buffered else 0}.
_PAGE_VIEW = """
if redis.call('INCR', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[6]) end
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

# KEYS: lock, buffer, processing. ARGV: token, lock ttl (ms), count. Renews the lock and returns the
# holder's batch: what a lost holder left in processing, else up to `count` hits moved there from
# the buffer. Nil when the lock is not the caller's (it expired and someone else may hold it).
_CLAIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local batch = redis.call('LRANGE', KEYS[3], 0, -1)
if #batch > 0 then return batch end
for i = 1, tonumber(ARGV[3]) do
  local hit = redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT')
  if not hit then break end
  batch[i] = hit
end
return batch
"""

# KEYS: lock, processing. ARGV: token. Drops the committed batch; 0 when the lock is no longer the
# caller's: the processing list may then hold a batch its new holder has not stored yet.
_ACK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: lock. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

_SCRIPTS = {"page_view": _PAGE_VIEW, "claim": _CLAIM, "ack": _ACK, "release": _RELEASE}


def redis_cache() -> RedisCache | None:
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _script(backend: RedisCache, name: str):
    scripts = getattr(backend, "_pixel_scripts", None)
    if scripts is None:
        client = redis_client(backend)
        scripts = {key: client.register_script(source) for key, source in _SCRIPTS.items()}
        backend._pixel_scripts = scripts
    return scripts[name]


def _keys(backend: RedisCache, *names: str) -> list[str]:
    return [backend.make_and_validate_key(name) for name in names]


def hit_payload(
    *,
    workspace_id: int,
    visitor_id: str,
    url: str,
    referrer: str,
    session_start: bool,
    at: float,
    browser: str = "",
    cookie: str = "",
) -> str:
    return json.dumps(
        {
            "h": secrets.token_hex(16),
            "ws": workspace_id,
            "v": visitor_id,
            "u": url,
            "r": referrer,
            "s": session_start,
            "t": at,
            "b": browser,  # how the visitor arrived, kept on its row if this is its first hit
            "c": cookie,
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
    mode_key: str,
    mode_ttl: int,
) -> tuple[bool, int]:
    """(allowed by the rate limit, the month's events so far)."""
    keys = _keys(backend, rate_key, usage_key, BUFFER_KEY, mode_key)
    args = [rate_ttl, rate_limit, usage_ttl, quota, payload, mode_ttl]
    _rate, usage, _buffered = _script(backend, "page_view")(keys=keys, args=args)
    return usage >= 0, usage


def flush_lock_take(backend: RedisCache, *, ttl_ms: int) -> str | None:
    """The flush lock's token, or None while another flusher holds it."""
    token = secrets.token_hex(16)
    taken = redis_client(backend).set(backend.make_and_validate_key(LOCK_KEY), token, nx=True, px=ttl_ms)
    return token if taken else None


def buffer_claim(backend: RedisCache, *, token: str, count: int, ttl_ms: int) -> list[bytes]:
    """The next batch to store ([] when the buffer is empty or the lock was lost)."""
    keys = _keys(backend, LOCK_KEY, BUFFER_KEY, PROCESSING_KEY)
    return _script(backend, "claim")(keys=keys, args=[token, ttl_ms, count]) or []


def buffer_ack(backend: RedisCache, *, token: str) -> bool:
    """Forget the claimed batch once committed; False when the lock was lost meanwhile."""
    return bool(_script(backend, "ack")(keys=_keys(backend, LOCK_KEY, PROCESSING_KEY), args=[token]))


def flush_lock_release(backend: RedisCache, *, token: str) -> None:
    _script(backend, "release")(keys=_keys(backend, LOCK_KEY), args=[token])


def buffer_length(backend: RedisCache) -> int:
    """Hits not yet stored: buffered, or claimed by a flusher."""
    pipe = redis_client(backend).pipeline(transaction=False)
    for key in _keys(backend, BUFFER_KEY, PROCESSING_KEY):
        pipe.llen(key)
    return sum(pipe.execute())
