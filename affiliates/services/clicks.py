"""Clicks on partner links: bots excluded, one per client IP, link and hour."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils import timezone

from affiliates.models import Click, Partner
from trackrev.common.emails import keyed_digest

VIA = "via"


def landing_url(url: str, code: str) -> str:
    """The destination with `via={code}` in its query (replacing any `via` it carried)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != VIA] + [(VIA, code)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def ip_digest(ip: str) -> str:
    return keyed_digest(f"click-ip:{ip}")


def click_record(*, partner: Partner, link_slug: str, ip: str, referrer: str) -> bool:
    """True when the click counted (the first from this IP on this link this hour)."""
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    _, created = Click.objects.get_or_create(
        partner=partner,
        link_slug=link_slug,
        ip_digest=ip_digest(ip),
        hour=hour,
        defaults={"workspace_id": partner.workspace_id, "occurred_at": now, "referrer": referrer[:500]},
    )
    return created
