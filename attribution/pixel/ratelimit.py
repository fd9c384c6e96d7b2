"""A fixed one-minute window per (workspace, client IP) in the shared cache, so every web
process counts against the same limit."""

import time
from collections.abc import Sequence

from django.conf import settings

from trackrev.common.counters import counters_incr

WINDOW_SECONDS = 60
KEY_TTL = WINDOW_SECONDS * 2


def rate_key(*, workspace_id: int, ip: str) -> str:
    return f"pixel:rl:{workspace_id}:{ip}:{int(time.time()) // WINDOW_SECONDS}"


def rate_limited(*, workspace_id: int, ip: str, also: Sequence[tuple[str, int]] = ()) -> bool:
    """Count the hit against the limit; `also`: more `(key, ttl)` counters to add to in the same round trip."""
    [count, *_] = counters_incr([(rate_key(workspace_id=workspace_id, ip=ip), KEY_TTL), *also])
    return count > settings.PIXEL_RATE_LIMIT_PER_MINUTE
