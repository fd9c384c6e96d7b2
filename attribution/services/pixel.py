"""Writes of the pixel: touches (append-only), visitors (inserted once), identities.

`hit_ingest` is the /collect hot path; with Redis it only buffers landings, and `touches_flush` (a
beat job every 10 s) classifies and stores them in batches; which page-view path runs (buffer in
Redis, or insert directly) follows the cache backend and is chosen once. `touch_record` and
`touches_record` are the same write for the demo generator and imports: classify the raw landing,
append the touch.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from attribution.channels import Landing, classify
from attribution.channels.hosts import host_of
from attribution.models import BrowserFamily, Identity, IdentitySource, Touch, Visitor, VisitorCookie
from attribution.pixel.buffer import (
    buffer_ack,
    buffer_claim,
    flush_lock_release,
    flush_lock_take,
    hit_payload,
    page_view_count,
    redis_cache,
)
from attribution.pixel.drops import DropReason
from attribution.pixel.proxy import MODE_KEY_TTL
from attribution.pixel.ratelimit import KEY_TTL as RATE_KEY_TTL
from attribution.pixel.ratelimit import rate_key, rate_limited
from attribution.pixel.wire import IDENTIFY, Hit
from attribution.selectors.pixel import PixelSite, pixel_site_load
from trackrev.common.emails import email_digest
from trackrev.workspaces.models import Workspace
from trackrev.workspaces.usage import (
    COUNTER_TTL,
    month_start,
    plan_quota,
    quota_exceeded,
    usage_counter_seed,
    usage_event_record,
    usage_key,
)

logger = logging.getLogger(__name__)
FLUSH_BATCH = 1000
# Renewed with every batch, so it only has to outlast one; a dead flusher's batch waits this long.
FLUSH_LOCK_TTL_MS = 60_000


@dataclass(frozen=True, slots=True)
class Arrival:
    """How a hit came: its browser family and who keeps its visitor's cookie (BrowserFamily,
    VisitorCookie); stored on the visitor's row by its first touch. Blank: not known (imports, demo)."""

    browser: str = ""
    cookie: str = ""

    @classmethod
    def of(cls, browser: object, cookie: object) -> "Arrival":
        """From values read back (the Redis buffer): anything unknown is blank."""
        return cls(browser if browser in BrowserFamily.values else "", cookie if cookie in VisitorCookie.values else "")


UNKNOWN_ARRIVAL = Arrival()
Arrivals = dict[tuple[int, str], Arrival]  # (workspace id, visitor id) → how its hit came


@dataclass(frozen=True, slots=True)
class LandingHit:
    """One hit to record through `touches_record`."""

    visitor_id: str
    url: str
    occurred_at: dt.datetime
    referrer: str = ""
    session_start: bool = True


def scrub_url(url: str) -> str:
    """Drop query values that look like email addresses, and user info: a landing URL must never
    smuggle a customer's email into the database."""
    if "@" not in url and "%40" not in url.lower():
        return url
    try:
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if "@" not in v]
        netloc = parts.netloc.rsplit("@", 1)[-1]
    except ValueError:
        return ""
    cleaned = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))
    return "" if "@" in unquote(cleaned) else cleaned


def _no_email(value: str) -> str:
    return "" if "@" in value else value


def touch_build(*, site: PixelSite, visitor_id: str, landing: Landing, occurred_at: dt.datetime) -> Touch | None:
    """An unsaved Touch for a landing, or None when the hit is not a landing."""
    labels = classify(landing, own_domains=site.allowed_domains, rules=site.rules, partner_name=site.partner_name)
    if labels is None:
        return None
    return Touch(
        workspace_id=site.id,
        visitor_id=visitor_id,
        occurred_at=occurred_at,
        channel=labels.channel[:100],
        channel_group=labels.channel_group[:40],
        campaign=_no_email(labels.campaign),
        source=_no_email(landing.source),
        medium=_no_email(landing.medium),
        term=_no_email(landing.term),
        content=_no_email(landing.content),
        referrer=scrub_url(landing.referrer)[:2048],
        landing_url=scrub_url(landing.url)[:2048],
        click_id_type=landing.click_id_type,
        click_id=landing.click_id,
        partner_code=landing.partner_code,
    )


def _append(touches: list[Touch], *, arrivals: Arrivals | None = None, ignore_conflicts: bool = False) -> None:
    first_seen: dict[tuple[int, str], dt.datetime] = {}
    for touch in touches:
        key = (touch.workspace_id, touch.visitor_id)
        first_seen[key] = min(first_seen.get(key, touch.occurred_at), touch.occurred_at)
    arrivals = arrivals or {}
    visitors = [
        Visitor(
            workspace_id=ws,
            visitor_id=v,
            created_at=at,
            browser=arrivals.get((ws, v), UNKNOWN_ARRIVAL).browser,
            cookie=arrivals.get((ws, v), UNKNOWN_ARRIVAL).cookie,
        )
        for (ws, v), at in first_seen.items()
    ]
    with transaction.atomic():
        Visitor.objects.bulk_create(visitors, ignore_conflicts=True)
        Touch.objects.bulk_create(touches, ignore_conflicts=ignore_conflicts)


@lru_cache(maxsize=1)
def _append_one_sql() -> tuple[str, tuple]:
    quote = connection.ops.quote_name
    fields = tuple(f for f in Touch._meta.concrete_fields if not f.primary_key)
    visitors, touches = quote(Visitor._meta.db_table), quote(Touch._meta.db_table)
    columns, params = ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    # Identifiers come from the models; every value is a parameter.
    sql = (
        f"WITH visitor AS (INSERT INTO {visitors} (workspace_id, visitor_id, created_at, browser, cookie) "  # noqa: S608
        f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING) INSERT INTO {touches} ({columns}) VALUES ({params})"
    )
    return sql, fields


def _append_one(touch: Touch, arrival: Arrival) -> None:
    """The hot path's only write. On PostgreSQL one statement (visitor insert-if-new + touch append)
    in autocommit: one round trip, one commit."""
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        _append([touch], arrivals={(touch.workspace_id, touch.visitor_id): arrival})
        return
    sql, fields = _append_one_sql()
    values = [f.get_db_prep_save(getattr(touch, f.attname), connection) for f in fields]
    visitor = [touch.workspace_id, touch.visitor_id, touch.occurred_at, arrival.browser, arrival.cookie]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*visitor, *values])


def touches_record(*, workspace: Workspace, hits: Iterable[LandingHit], batch_size: int = 1000) -> int:
    """Classify and append many hits (demo data, benchmarks); returns how many touches were stored."""
    site = pixel_site_load(workspace=workspace)
    stored, batch = 0, []
    for hit in hits:
        landing = Landing.from_url(hit.url, referrer=hit.referrer, session_start=hit.session_start)
        touch = touch_build(site=site, visitor_id=hit.visitor_id, landing=landing, occurred_at=hit.occurred_at)
        if touch is not None:
            batch.append(touch)
        if len(batch) >= batch_size:
            _append(batch)
            stored, batch = stored + len(batch), []
    if batch:
        _append(batch)
        stored += len(batch)
    return stored


def touch_record(
    *,
    workspace: Workspace,
    visitor_id: str,
    url: str,
    referrer: str = "",
    occurred_at: dt.datetime | None = None,
    session_start: bool = True,
) -> Touch | None:
    """Classify and append one hit; None when it is not a landing."""
    site = pixel_site_load(workspace=workspace)
    landing = Landing.from_url(url, referrer=referrer, session_start=session_start)
    touch = touch_build(site=site, visitor_id=visitor_id, landing=landing, occurred_at=occurred_at or timezone.now())
    if touch is not None:
        _append([touch])
    return touch


def identity_bind(
    *,
    workspace_id: int,
    visitor_id: str,
    email: str,
    source: str = IdentitySource.BROWSER,
    now: dt.datetime | None = None,
) -> None:
    """Bind an email to a visitor, storing only its keyed digest; `source` says who vouches for it."""
    digest = email_digest(email)
    if not digest:
        return
    now = now or timezone.now()
    with transaction.atomic():
        Visitor.objects.bulk_create(
            [Visitor(workspace_id=workspace_id, visitor_id=visitor_id, created_at=now)], ignore_conflicts=True
        )
        Identity.objects.bulk_create(
            [
                Identity(
                    workspace_id=workspace_id, visitor_id=visitor_id, email_digest=digest, source=source, created_at=now
                )
            ],
            ignore_conflicts=True,
        )


def _maybe_landing(hit: Hit) -> bool:
    """Cheap pre-check: a hit without session start, query string or foreign referrer is a plain
    page view that only counts toward usage (classify() decides for the rest)."""
    if hit.session_start or "?" in hit.url:
        return True
    return bool(hit.referrer) and host_of(hit.referrer) != host_of(hit.url)


def hit_ingest(
    *,
    site: PixelSite,
    hit: Hit,
    ip: str,
    mode_key: str,
    arrival: Arrival = UNKNOWN_ARRIVAL,
    now: dt.datetime | None = None,
) -> DropReason | None:
    """Record a validated hit from a real browser; returns why it was not counted (over the rate
    limit, or past the plan's quota), None when it was. Identities are bound; page views are
    counted and, when they are landings within the plan's quota, recorded as touches (through the
    Redis buffer when the cache is Redis). `mode_key`: the counter of the way the hit came
    (attribution/pixel/proxy.py), added to in the round trip of the rate limit."""
    now = now or timezone.now()
    if hit.kind == IDENTIFY:
        if rate_limited(workspace_id=site.id, ip=ip, also=[(mode_key, MODE_KEY_TTL)]):
            return DropReason.RATE_LIMIT
        identity_bind(workspace_id=site.id, visitor_id=hit.visitor_id, email=hit.email, now=now)
        return None
    return _page_view_ingest()(site=site, hit=hit, ip=ip, mode_key=mode_key, arrival=arrival, now=now)


def _page_view_buffer(
    *, site: PixelSite, hit: Hit, ip: str, mode_key: str, arrival: Arrival, now: dt.datetime
) -> DropReason | None:
    """One round trip: the mode counter, rate limit, usage and, for a possible landing, the buffer
    (see buffer.py). The script's answer also says whether the quota dropped the hit (the month's
    events past it)."""
    backend = caches["default"]  # looked up per hit: Django keeps a cache object per thread
    payload = (
        hit_payload(
            workspace_id=site.id,
            visitor_id=hit.visitor_id,
            url=hit.url,
            referrer=hit.referrer,
            session_start=hit.session_start,
            at=now.timestamp(),
            browser=arrival.browser,
            cookie=arrival.cookie,
        )
        if _maybe_landing(hit)
        else ""
    )
    quota = plan_quota(site.plan)
    allowed, total = page_view_count(
        backend,
        rate_key=rate_key(workspace_id=site.id, ip=ip),
        rate_ttl=RATE_KEY_TTL,
        rate_limit=settings.PIXEL_RATE_LIMIT_PER_MINUTE,
        usage_key=usage_key(site.id, month_start(now)),
        usage_ttl=COUNTER_TTL,
        quota=quota,
        payload=payload,
        mode_key=mode_key,
        mode_ttl=MODE_KEY_TTL,
    )
    if not allowed:
        return DropReason.RATE_LIMIT
    usage_counter_seed(workspace_id=site.id, total=total, now=now)
    # The script's own count decided the buffering, so it decides the drop too.
    return DropReason.QUOTA if quota and total > quota else None


def _page_view_append(
    *, site: PixelSite, hit: Hit, ip: str, mode_key: str, arrival: Arrival, now: dt.datetime
) -> DropReason | None:
    """Without Redis: count through the cache API, classify now, insert the touch."""
    if rate_limited(workspace_id=site.id, ip=ip, also=[(mode_key, MODE_KEY_TTL)]):
        return DropReason.RATE_LIMIT
    events = usage_event_record(workspace_id=site.id, now=now)
    if quota_exceeded(plan=site.plan, events=events):
        return DropReason.QUOTA
    if not _maybe_landing(hit):
        return None
    landing = Landing.from_url(hit.url, referrer=hit.referrer, session_start=hit.session_start)
    touch = touch_build(site=site, visitor_id=hit.visitor_id, landing=landing, occurred_at=now)
    if touch is not None:
        _append_one(touch, arrival)
    return None


@lru_cache(maxsize=1)
def _page_view_ingest() -> Callable[..., DropReason | None]:
    return _page_view_buffer if redis_cache() is not None else _page_view_append


@receiver(setting_changed)
def _page_view_ingest_reset(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":  # a test that swaps the cache gets the path that fits it
        _page_view_ingest.cache_clear()


def _buffered_touches(items: list[bytes]) -> tuple[list[Touch], Arrivals]:
    sites: dict[int, PixelSite | None] = {}
    touches, arrivals = [], {}
    for raw in items:
        try:
            data = json.loads(raw)
            workspace_id, hit_id = int(data["ws"]), str(data["h"])
            landing = Landing.from_url(str(data["u"]), referrer=str(data["r"]), session_start=bool(data["s"]))
            visitor_id, occurred_at = str(data["v"]), dt.datetime.fromtimestamp(float(data["t"]), dt.UTC)
            arrival = Arrival.of(data.get("b"), data.get("c"))  # hits buffered before these were: blank
        except (ValueError, KeyError, TypeError):
            logger.warning("skipping a malformed buffered hit")
            continue
        if workspace_id not in sites:
            workspace = Workspace.objects.filter(pk=workspace_id).first()
            sites[workspace_id] = pixel_site_load(workspace=workspace) if workspace else None
        site = sites[workspace_id]
        touch = site and touch_build(site=site, visitor_id=visitor_id, landing=landing, occurred_at=occurred_at)
        if touch:
            touch.hit_id = hit_id
            touches.append(touch)
            arrivals.setdefault((workspace_id, visitor_id), arrival)  # the visitor's earliest hit of the batch
    return touches, arrivals


def touches_flush(
    *, batch_size: int = FLUSH_BATCH, max_batches: int = 10_000, lock_ttl_ms: int = FLUSH_LOCK_TTL_MS
) -> int:
    """Move buffered hits into touches, oldest first, one transaction per batch; the batch leaves
    Redis only after its commit, and hit ids make a replayed batch harmless. One flusher at a time:
    one that outlived its lock stops after storing what it read, and leaves the rest to the new
    holder. Returns how many touches were stored (a replayed batch counts again)."""
    backend = redis_cache()
    if backend is None:
        return 0
    token = flush_lock_take(backend, ttl_ms=lock_ttl_ms)
    if token is None:
        return 0
    stored = 0
    try:
        for _ in range(max_batches):
            items = buffer_claim(backend, token=token, count=batch_size, ttl_ms=lock_ttl_ms)
            if not items:  # the buffer is empty, or the lock expired while this flusher stalled
                break
            touches, arrivals = _buffered_touches(items)
            if touches:
                _append(touches, arrivals=arrivals, ignore_conflicts=True)
            stored += len(touches)
            if not buffer_ack(backend, token=token):  # the lock's new holder replays this batch
                break
    finally:
        flush_lock_release(backend, token=token)
    return stored
