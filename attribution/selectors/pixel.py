"""Reads of the pixel: a workspace's pixel configuration for the hot path, cached in the process,
and for the Integrations page the hits it did not count lately, which way recent hits came (through
the first-party proxy or direct) and who keeps the cookie of the month's new visitors.

A hit needs the workspace's id, plan, allowed domains, compiled channel rules and proxy secret; those are read
once per process and kept for SITE_TTL seconds. A change of channel rules makes its process forget
the workspace's copy at once; a change of the workspace itself (a plan bought or canceled, domains)
reaches this process at once when it made it, and every other one within VERSION_CHECK_EVERY
seconds, through the shared configuration version (trackrev/workspaces/config_version.py).
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string

from attribution.channels import CompiledRule, compile_rules
from attribution.channels.hosts import in_domains
from attribution.models import BrowserFamily, ChannelRule, Visitor, VisitorCookie
from attribution.pixel.drops import BUCKETS, COUNTED, DropReason, drop_hour, drop_key, refused_host_key
from attribution.pixel.proxy import HitMode, mode_key
from trackrev.workspaces.config_version import workspace_config_local_version, workspace_config_shared_version
from trackrev.workspaces.models import Workspace

SITE_TTL = 60.0
VERSION_CHECK_EVERY = 1.0  # one cache read per second per process, not one per hit
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
    # X-TrackRev-Proxy of the workspace's first-party proxy (attribution/pixel/proxy.py): cached here, so
    # telling a proxied hit from a direct one costs no query.
    proxy_secret: str = ""

    def allows(self, host: str) -> bool:
        """Hits from any host when no domain is set, else from the domains and their subdomains."""
        return not self.allowed_domains or in_domains(host.lower(), self.allowed_domains)


_sites: dict[str, tuple[float, PixelSite | None]] = {}


@dataclass(slots=True)
class _SeenVersion:
    local: int = 0
    shared: str | None = None
    check_at: float = 0.0


_seen = _SeenVersion()


def _forget_changed(now: float) -> None:
    """Drop every cached configuration once any workspace changed (changes are rare: a reload per
    workspace is cheap beside a stale plan or domain list)."""
    local = workspace_config_local_version()
    if local == _seen.local and now < _seen.check_at:
        return
    shared = workspace_config_shared_version()
    if (local, shared) != (_seen.local, _seen.shared):
        _sites.clear()
    _seen.local, _seen.shared, _seen.check_at = local, shared, now + VERSION_CHECK_EVERY


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
        workspace.pk,
        workspace.public_id,
        workspace.plan,
        domains,
        compile_rules(rules),
        partner_lookup(workspace.pk),
        workspace.pixel_proxy_secret,
    )


def pixel_site_get(*, public_id: str) -> PixelSite | None:
    """The cached pixel configuration of a workspace, or None when there is no such workspace
    (remembered too, so garbage ids cost one query per TTL)."""
    now = time.monotonic()
    _forget_changed(now)
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


@dataclass(frozen=True, slots=True)
class HitModes:
    """Hits of the last 24 hours by the way they came (attribution/pixel/proxy.py)."""

    proxy: int
    direct: int
    wrong_secret: int

    @property
    def total(self) -> int:
        return self.proxy + self.direct + self.wrong_secret


def pixel_modes_recent(*, workspace_id: int, now: dt.datetime | None = None) -> HitModes:
    """One read of the cache: each mode's hourly buckets of the last 24 hours."""
    hour = drop_hour(now or timezone.now())
    keys = {mode_key(workspace_id, mode, h): mode for mode in HitMode for h in range(hour, hour - BUCKETS, -1)}
    counts = dict.fromkeys(HitMode, 0)
    for key, count in cache.get_many(list(keys)).items():
        counts[keys[key]] += count
    return HitModes(counts[HitMode.PROXY], counts[HitMode.DIRECT], counts[HitMode.WRONG_SECRET])


COOKIE_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class CookieRow:
    browser: BrowserFamily
    proxy: int
    script: int


@dataclass(frozen=True, slots=True)
class VisitorCookies:
    """New visitors of the last 30 days per browser family, by who keeps their visitor id: the
    first-party proxy's Set-Cookie, or the script's own cookie (capped by Safari's ITP)."""

    rows: tuple[CookieRow, ...]

    @property
    def total(self) -> int:
        return sum(row.proxy + row.script for row in self.rows)

    @property
    def at_risk(self) -> int:
        """Safari and iOS visitors whose id lives in a cookie the script wrote."""
        return sum(row.script for row in self.rows if row.browser == BrowserFamily.SAFARI)

    @property
    def at_risk_percent(self) -> int:
        return round(self.at_risk * 100 / self.total) if self.total else 0


def visitor_cookies_recent(*, workspace_id: int, now: dt.datetime | None = None) -> VisitorCookies:
    """One grouped count over the workspace's visitors first seen in the window (visitors recorded
    before the browser and cookie were, and imported ones, have neither and are left out)."""
    since = (now or timezone.now()) - dt.timedelta(days=COOKIE_WINDOW_DAYS)
    counts = {
        (browser, cookie): n
        for browser, cookie, n in Visitor.objects.filter(workspace_id=workspace_id, created_at__gte=since)
        .exclude(browser="")
        .exclude(cookie="")
        .values_list("browser", "cookie")
        .annotate(n=Count("pk"))
        .order_by()
    }
    rows = (
        CookieRow(family, counts.get((family, VisitorCookie.PROXY), 0), counts.get((family, VisitorCookie.SCRIPT), 0))
        for family in BrowserFamily
    )
    return VisitorCookies(rows=tuple(row for row in rows if row.proxy or row.script))
