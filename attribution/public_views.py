"""Public pixel endpoints: `GET /p.js` and `POST /collect` (the hot path: validate, drop bots,
rate-limit, record, 204 — see CONTRACTS.md §3 and attribution/pixel/wire.py). A hit that is not
counted is answered with `X-TrackRev-Dropped: <reason>` (attribution/pixel/drops.py). A hit through
the workspace's first-party proxy is judged by the client IP and host the proxy forwards, and its
answer sets the visitor cookie (attribution/pixel/proxy.py)."""

import logging
from functools import lru_cache
from pathlib import Path

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpResponse
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError

from attribution.channels.hosts import host_of
from attribution.models import VisitorCookie
from attribution.pixel import drops, wire
from attribution.pixel.bots import is_bot
from attribution.pixel.browsers import browser_family
from attribution.pixel.drops import DropReason, hit_drop_record
from attribution.pixel.proxy import MODE_KEY_TTL, HitMode, hit_mode, mode_key, proxy_forwarded, visitor_cookie_set
from attribution.selectors.pixel import PixelSite, pixel_site_get
from attribution.services.pixel import Arrival, hit_ingest
from trackrev.common.client_ip import client_ip

logger = logging.getLogger(__name__)

SCRIPT_PATH = Path(__file__).parent / "pixel" / "p.js"
SCRIPT_MAX_AGE = 3600


@lru_cache(maxsize=1)
def _script() -> bytes:
    return SCRIPT_PATH.read_bytes()


# Neither answer is a page: no Content-Security-Policy to build (trackrev/common/csp.py).
@csp_exempt()
def pixel_script(request):
    response = HttpResponse(_script(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}, stale-while-revalidate=86400"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _status(status: int, origin: str | None, *, preflight: bool = False) -> HttpResponse:
    # Any site of the workspace may post; no credentials are read, so echoing the origin is safe.
    response = HttpResponse(status=status)
    response["Access-Control-Allow-Origin"] = origin or "*"
    response["Vary"] = "Origin"
    if preflight:
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
    return response


def _dropped(
    reason: DropReason,
    origin: str | None,
    *,
    status: int = 204,
    site: PixelSite | None = None,
    host: str = "",
    mode_counter: str = "",
) -> HttpResponse:
    """The answer to a hit that was not counted: counted as dropped for its workspace (when there is
    one), and saying why for p.js's `data-debug` log: a 204 alone does not tell a counted hit from one
    past the quota or from a bot. `mode_counter`: the hit's mode counter when nothing counted it yet."""
    if site is not None:
        also = [(mode_counter, MODE_KEY_TTL)] if mode_counter else []
        hit_drop_record(workspace_id=site.id, reason=reason, host=host, also=also)
    response = _status(status, origin)
    response[drops.HEADER] = reason.value
    response["Access-Control-Expose-Headers"] = drops.HEADER
    if status >= 400:
        # Counted and shown per reason on the Integrations page: django.request's warning for every
        # refused hit of a site would flood the log.
        log_response("Pixel hit not counted: %s", reason.value, response=response, level="debug")
    return response


def _refused_host(site: PixelSite, *hosts: str) -> str | None:
    """The first of the hosts the hit names or came from (its page, the request's Origin, the host
    the workspace's proxy forwarded) that the workspace does not allow; None when all are allowed
    ('' is no host)."""
    return next((host for host in hosts if host and not site.allows(host)), None)


@csp_exempt()
@csrf_exempt
def collect(request):
    # META, not request.headers: building the headers mapping of every request cost /collect a twentieth.
    origin = request.META.get("HTTP_ORIGIN")
    if request.method == "OPTIONS":
        return _status(204, origin, preflight=True)
    if request.method != "POST":
        response = _status(405, origin)
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _status(400, origin)
    if declared > wire.MAX_BODY:
        return _status(413, origin)
    body = request.read(wire.MAX_BODY + 1)
    if len(body) > wire.MAX_BODY:
        return _status(413, origin)
    try:
        hit = wire.parse(body)
    except wire.WireError:
        return _status(400, origin)
    try:
        return _record(request, hit, origin)
    except RedisError as exc:  # the shared cache and buffer are down: nothing stored, so no 204; send it again
        logger.warning("pixel hit not recorded, Redis unavailable: %s", exc)
        response = _status(503, origin)
        response["Retry-After"] = "5"
        return response


def _record(request, hit: wire.Hit, origin: str | None) -> HttpResponse:
    site = pixel_site_get(public_id=hit.workspace)
    if site is None:
        return _dropped(DropReason.UNKNOWN_WORKSPACE, origin, status=404)
    mode = hit_mode(request.META, site.proxy_secret)
    if mode != HitMode.PROXY:  # forwarded headers, if any, are the client's word: ignored
        return _answer(request, hit, site, mode, origin, ip=client_ip(request))
    forwarded = proxy_forwarded(request.META, own_hops=settings.TRUSTED_PROXY_COUNT)
    # The page's Origin is still checked: another site's page posting to the customer's proxy is refused.
    ip = forwarded.ip or client_ip(request)  # no usable address: the proxy's own counts
    response = _answer(request, hit, site, mode, origin, ip=ip, forwarded_host=forwarded.host)
    visitor_cookie_set(response, hit=hit, host=forwarded.host)
    # p.js sends proxied hits with credentials (so the browser keeps the cookie); a page on a sibling
    # host of the site reads the answer under data-debug only if it may.
    response["Access-Control-Allow-Credentials"] = "true"
    return response


def _answer(
    request, hit: wire.Hit, site: PixelSite, mode: HitMode, origin: str | None, *, ip: str, forwarded_host: str = ""
) -> HttpResponse:
    if hit.kind == wire.CONSENT:  # only asks a proxied answer for the cookie: nothing to count
        return _status(204, origin)
    counter = mode_key(site.id, mode)
    refused = _refused_host(site, hit.host, host_of(origin or ""), forwarded_host)
    if refused is not None:
        return _dropped(DropReason.DOMAIN, origin, status=403, site=site, host=refused, mode_counter=counter)
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if hit.automated or is_bot(user_agent):
        return _dropped(DropReason.AUTOMATED, origin, site=site, mode_counter=counter)  # nothing stored
    cookie = VisitorCookie.PROXY if mode == HitMode.PROXY and hit.persist else VisitorCookie.SCRIPT
    arrival = Arrival(browser_family(user_agent), cookie)
    dropped = hit_ingest(site=site, hit=hit, ip=ip, mode_key=counter, arrival=arrival)
    if dropped is not None:
        return _dropped(dropped, origin, status=429 if dropped == DropReason.RATE_LIMIT else 204, site=site)
    return _status(204, origin)
