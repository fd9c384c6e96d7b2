"""A fixed one-minute window per (workspace, client IP) in the shared cache, so every web
process counts against the same limit."""

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def rate_limited(*, workspace_id: int, ip: str) -> bool:
    key = f"pixel:rl:{workspace_id}:{ip}:{int(time.time()) // WINDOW_SECONDS}"
    try:
        count = cache.incr(key)
    except ValueError:
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            return False
        count = cache.incr(key)
    return count > settings.PIXEL_RATE_LIMIT_PER_MINUTE
