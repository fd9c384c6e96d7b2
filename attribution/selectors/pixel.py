"""Reads of the pixel: a workspace's pixel configuration for the hot path, cached in the process,
and the hits it did not count lately, for the Integrations page.

A hit needs the workspace's id, plan, allowed domains and compiled channel rules; those are read
once per process and kept for SITE_TTL seconds, so a change in settings reaches every web process
within that time (the process that made the change forgets its copy at once).
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.module_loading import import_string

from attribution.channels import CompiledRule, compile_rules
from attribution.channels.hosts import in_domains
from attribution.models import ChannelRule
from attribution.pixel.drops import BUCKETS, COUNTED, DropReason, drop_hour, drop_key, refused_host_key
from trackrev.workspaces.models import Workspace

SITE_TTL = 60.0
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class PixelSite:
    id: int
    public_id: str
    plan: str
    allowed_domains: tuple[str, ...]
    rules: tuple[CompiledRule, ...]
    # `code → partner name` for `via`/`ref` landings (settings.PARTNER_RESOLVER), remembered per code for
    # the life of this configuration: a flush batch or a reclassify run asks once per code, not per touch.
    partner_name: Callable[[str], str | None] | None = None

    def allows(self, host: str) -> bool:
        """Hits from any host when no domain is set, else from the domains and their subdomains."""
        return not self.allowed_domains or in_domains(host.lower(), self.allowed_domains)


_sites: dict[str, tuple[float, PixelSite | None]] = {}


def normalize_domain(domain: str) -> str:
    return domain.strip().lower().removeprefix("*.").removeprefix(".").removeprefix("www.")


@lru_cache(maxsize=1)
def _resolver(dotted: str) -> Callable[..., str | None]:
    return import_string(dotted)


def partner_lookup(workspace_id: int) -> Callable[[str], str | None] | None:
    """`code → partner name` from the app that owns partners (settings.PARTNER_RESOLVER), without
    attribution importing it; remembers the last codes it was asked (a `via` is whatever a URL says)."""
    if not settings.PARTNER_RESOLVER:
        return None
    resolver = _resolver(settings.PARTNER_RESOLVER)
    return lru_cache(maxsize=256)(lambda code: resolver(workspace_id=workspace_id, code=code))


def pixel_site_load(*, workspace: Workspace) -> PixelSite:
    rules = ChannelRule.objects.filter(workspace=workspace).order_by("position", "id")
    domains = tuple(d for d in (normalize_domain(str(x)) for x in workspace.allowed_domains or ()) if d)
    return PixelSite(
        workspace.pk, workspace.public_id, workspace.plan, domains, compile_rules(rules), partner_lookup(workspace.pk)
    )


def pixel_site_get(*, public_id: str) -> PixelSite | None:
    """The cached pixel configuration of a workspace, or None when there is no such workspace
    (remembered too, so garbage ids cost one query per TTL)."""
    now = time.monotonic()
    cached = _sites.get(public_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    workspace = Workspace.objects.filter(public_id=public_id).first()
    site = pixel_site_load(workspace=workspace) if workspace else None
    if len(_sites) >= _MAX_ENTRIES:
        _sites.clear()
    _sites[public_id] = (now + SITE_TTL, site)
    return site


def pixel_site_forget(*, public_id: str | None = None) -> None:
    """Drop the cached configuration (all of it when no id is given)."""
    if public_id is None:
        _sites.clear()
    else:
        _sites.pop(public_id, None)


@dataclass(frozen=True, slots=True)
class DropCount:
    reason: DropReason
    count: int


@dataclass(frozen=True, slots=True)
class PixelDrops:
    """Hits of the last 24 hours that were not counted: one row per reason that dropped any (in
    `COUNTED` order), and the host a refused hit came from most recently ('' when none)."""

    rows: tuple[DropCount, ...]
    refused_host: str

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def pixel_drops_recent(*, workspace_id: int, now: dt.datetime | None = None) -> PixelDrops:
    """One read of the cache: every reason's hourly buckets of the last 24 hours, and their hosts."""
    hour = drop_hour(now or timezone.now())
    hours = range(hour, hour - BUCKETS, -1)  # newest first
    counters = {drop_key(workspace_id, reason, h): reason for reason in COUNTED for h in hours}
    hosts = [refused_host_key(workspace_id, h) for h in hours]
    found = cache.get_many([*counters, *hosts])
    counts = dict.fromkeys(COUNTED, 0)
    for key, reason in counters.items():
        counts[reason] += found.get(key, 0)
    rows = tuple(DropCount(reason, count) for reason, count in counts.items() if count)
    return PixelDrops(rows=rows, refused_host=next((found[key] for key in hosts if key in found), ""))
