"""Writes of the pixel: touches (append-only), visitors (inserted once), identities.

`hit_ingest` is the /collect hot path. `touch_record` and `touches_record` are the same write for
the demo generator, the benchmark and imports: classify the raw landing, append the touch.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from attribution.channels import Landing, classify
from attribution.models import Identity, Touch, Visitor
from attribution.pixel.wire import IDENTIFY, Hit
from attribution.selectors.pixel import PixelSite, pixel_site_load
from trackrev.common.emails import email_digest
from trackrev.workspaces.models import Workspace
from trackrev.workspaces.usage import quota_exceeded, usage_event_record


@dataclass(frozen=True, slots=True)
class LandingHit:
    """One hit to record through `touches_record`."""

    visitor_id: str
    url: str
    occurred_at: dt.datetime
    referrer: str = ""
    session_start: bool = True


@lru_cache(maxsize=1)
def _resolver(dotted: str) -> Callable[..., str | None]:
    return import_string(dotted)


def partner_lookup(workspace_id: int) -> Callable[[str], str | None] | None:
    """`code → partner name` from the app that owns partners (settings.PARTNER_RESOLVER)."""
    dotted = settings.PARTNER_RESOLVER
    if not dotted:
        return None
    resolver = _resolver(dotted)
    return lambda code: resolver(workspace_id=workspace_id, code=code)


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
    labels = classify(landing, own_domains=site.allowed_domains, rules=site.rules,
                      partner_name=partner_lookup(site.id))
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


def _append(touches: list[Touch]) -> None:
    first_seen: dict[tuple[int, str], dt.datetime] = {}
    for touch in touches:
        key = (touch.workspace_id, touch.visitor_id)
        first_seen[key] = min(first_seen.get(key, touch.occurred_at), touch.occurred_at)
    visitors = [Visitor(workspace_id=ws, visitor_id=v, created_at=at) for (ws, v), at in first_seen.items()]
    with transaction.atomic():
        Visitor.objects.bulk_create(visitors, ignore_conflicts=True)
        Touch.objects.bulk_create(touches)


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


def identity_bind(*, workspace_id: int, visitor_id: str, email: str, now: dt.datetime | None = None) -> None:
    """Bind an email to a visitor, storing only its keyed digest."""
    digest = email_digest(email)
    if not digest:
        return
    now = now or timezone.now()
    with transaction.atomic():
        Visitor.objects.bulk_create(
            [Visitor(workspace_id=workspace_id, visitor_id=visitor_id, created_at=now)], ignore_conflicts=True
        )
        Identity.objects.bulk_create(
            [Identity(workspace_id=workspace_id, visitor_id=visitor_id, email_digest=digest, created_at=now)],
            ignore_conflicts=True,
        )


def hit_ingest(*, site: PixelSite, hit: Hit, now: dt.datetime | None = None) -> Touch | None:
    """Record a validated hit from a real browser: identities are bound; page views are counted
    and, when they are landings and the plan's quota allows, appended as touches."""
    now = now or timezone.now()
    if hit.kind == IDENTIFY:
        identity_bind(workspace_id=site.id, visitor_id=hit.visitor_id, email=hit.email, now=now)
        return None
    events = usage_event_record(workspace_id=site.id, now=now)
    if quota_exceeded(plan=site.plan, events=events):
        return None
    landing = Landing.from_url(hit.url, referrer=hit.referrer, session_start=hit.session_start)
    touch = touch_build(site=site, visitor_id=hit.visitor_id, landing=landing, occurred_at=now)
    if touch is not None:
        _append([touch])
    return touch
