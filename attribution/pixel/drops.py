"""Why /collect did not count a hit. One enum serves the answer (`X-TrackRev-Dropped: <reason>`,
which p.js logs to the console under `data-debug`), the per-workspace counters and the Integrations
page, so the three always speak of the same reasons.

The counters are hourly buckets per (workspace, reason) in the shared cache, each living 25 hours
from its first increment: "the last 24 hours" is the sum of the current bucket and the 24 before it,
read only by the Integrations page. A dropped hit costs one counter increment; a hit that is counted
never touches them. The first refused host of each hour is kept beside its bucket, so the page can
name the domain to add.
"""

import datetime as dt
from collections.abc import Sequence

from django.core.cache import cache
from django.db import models
from django.utils import timezone

from trackrev.common.counters import counters_incr

HEADER = "X-TrackRev-Dropped"
BUCKET_SECONDS = 3600
BUCKETS = 25  # the current hour and the 24 before it: every drop of the last 24 hours
KEY_TTL = BUCKET_SECONDS * BUCKETS  # the oldest bucket read is still alive
HOST_MAX = 253


class DropReason(models.TextChoices):
    AUTOMATED = "automated", "Automated or headless browser, or a bot"  # UA, or navigator.webdriver
    DOMAIN = "domain", "Domain not allowed"  # 403
    QUOTA = "quota", "Monthly Free plan quota reached"  # 204, nothing stored
    RATE_LIMIT = "rate-limit", "Rate limited"  # 429
    # The answer only: a hit for a workspace that does not exist has nowhere to be counted (404).
    UNKNOWN_WORKSPACE = "unknown-workspace", "Unknown workspace"


COUNTED = (DropReason.AUTOMATED, DropReason.DOMAIN, DropReason.QUOTA, DropReason.RATE_LIMIT)


def drop_hour(now: dt.datetime) -> int:
    return int(now.timestamp()) // BUCKET_SECONDS


def drop_key(workspace_id: int, reason: str, hour: int) -> str:
    return f"pixel:dropped:{workspace_id}:{reason}:{hour}"


def refused_host_key(workspace_id: int, hour: int) -> str:
    return f"pixel:dropped:{workspace_id}:host:{hour}"


def hit_drop_record(
    *,
    workspace_id: int,
    reason: DropReason,
    host: str = "",
    now: dt.datetime | None = None,
    also: Sequence[tuple[str, int]] = (),
) -> None:
    """Count one hit of the workspace that was not counted, and why; for a refused domain, the
    first host of the hour is kept too (one more write per workspace and hour, not per hit).
    `also`: more `(key, ttl)` counters to add to in the same round trip."""
    hour = drop_hour(now or timezone.now())
    [count, *_] = counters_incr([(drop_key(workspace_id, reason, hour), KEY_TTL), *also])
    if host and count == 1:
        cache.set(refused_host_key(workspace_id, hour), host[:HOST_MAX], KEY_TTL)
