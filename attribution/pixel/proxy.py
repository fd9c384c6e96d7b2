"""First-party proxy mode (README, "First-party proxy mode"; CONTRACTS.md §3).

The customer's own server forwards `/_tr/p.js` and `/_tr/collect` to TrackRev and adds
`X-TrackRev-Proxy: <the workspace's pixel proxy secret>`, `X-Forwarded-For` (the client's address) and
`X-Forwarded-Host` (the site's host). Only a hit carrying the right secret is proxied: its forwarded
client IP and host stand in for the socket address and the Origin, and its answer sets the visitor
cookie over HTTP (`Set-Cookie`, which Safari keeps for its whole life, unlike a script's cookie). Any
other hit is a direct hit: forwarded headers are ignored entirely, whoever sent them.

Which way recent hits came (proxy, direct, or with a wrong secret: a proxy whose config is stale) is
counted in hourly buckets like the dropped hits (drops.py), one increment per hit, in the round trip
the hit makes to the cache anyway.
"""

import hmac
import ipaddress
import time
from dataclasses import dataclass

from django.db import models

from attribution.channels.hosts import in_domains
from attribution.pixel.drops import BUCKET_SECONDS, KEY_TTL
from attribution.pixel.wire import COOKIE_DOMAIN, DOMAIN_MAX, Hit

HEADER = "X-TrackRev-Proxy"
COOKIE_NAME = "trackrev_vid"
COOKIE_MAX_AGE = 365 * 86400  # the contract's 31536000
MODE_KEY_TTL = KEY_TTL  # the same 25 hourly buckets as the dropped hits


class HitMode(models.TextChoices):
    PROXY = "proxy", "Through your proxy"
    DIRECT = "direct", "Direct"
    WRONG_SECRET = "wrong-secret", "With a wrong proxy secret"


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What the workspace's proxy says of the visitor; empty where it said nothing usable."""

    ip: str
    host: str


def hit_mode(meta: dict, secret: str) -> HitMode:
    """Proxied only with the workspace's secret (PixelSite.proxy_secret), compared in constant time."""
    sent = meta.get("HTTP_X_TRACKREV_PROXY")
    if sent is None:
        return HitMode.DIRECT
    if secret and hmac.compare_digest(sent.encode(), secret.encode()):
        return HitMode.PROXY
    return HitMode.WRONG_SECRET


def forwarded_ip(meta: dict, *, own_hops: int) -> str:
    """The client address the customer's proxy vouches for: the last entry of X-Forwarded-For before
    the `own_hops` that TrackRev's own proxies appended (TRUSTED_PROXY_COUNT). The recipes set the
    header to the client's address, so with no proxy of TrackRev's own it is the header's only (and
    left-most) entry; a proxy that appends instead puts the address it saw last, after whatever the
    visitor sent, which is never read. '' when that entry is not an IP address."""
    chain = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(chain) <= own_hops:
        return ""
    try:
        return str(ipaddress.ip_address(chain[-1 - own_hops].strip()))
    except ValueError:
        return ""


def forwarded_host(meta: dict) -> str:
    """The site's host as the customer's proxy received it: the first entry of X-Forwarded-Host
    (proxies after it append theirs), lower-case, without a port; '' when it is not a host name."""
    host = meta.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip().lower()
    if host.count(":") == 1:
        host = host.split(":")[0]
    if len(host) > DOMAIN_MAX or not COOKIE_DOMAIN.fullmatch(host) or host.startswith("."):
        return ""
    return host


def proxy_forwarded(meta: dict, *, own_hops: int) -> Forwarded:
    return Forwarded(ip=forwarded_ip(meta, own_hops=own_hops), host=forwarded_host(meta))


def visitor_cookie_set(response, *, hit: Hit, host: str) -> None:
    """The contract's `trackrev_vid` cookie, when the page asked for it (consent given): `Domain` the
    snippet's cookie domain only when the site's host is under it (a browser refuses any other),
    host-only otherwise. Both values were validated (wire.py), so neither can break the header.

    Set whatever became of the hit (counted, over a limit, refused): the proxy vouches for a real page
    of the customer's, and keeping the visitor's id costs nothing."""
    if not hit.persist:
        return
    domain = hit.cookie_domain if host and in_domains(host, (hit.cookie_domain.lstrip("."),)) else None
    response.set_cookie(
        COOKIE_NAME, hit.visitor_id, max_age=COOKIE_MAX_AGE, domain=domain, path="/", secure=True, samesite="Lax"
    )


def mode_key(workspace_id: int, mode: str, hour: int | None = None) -> str:
    if hour is None:
        hour = int(time.time()) // BUCKET_SECONDS
    return f"pixel:mode:{workspace_id}:{mode}:{hour}"
