"""Public pixel endpoints: `GET /p.js` and `POST /collect` (the hot path: validate, drop bots,
rate-limit, record, 204 — see CONTRACTS.md §3 and attribution/pixel/wire.py)."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from attribution.channels.hosts import host_of
from attribution.pixel import wire
from attribution.pixel.bots import is_bot
from attribution.selectors.pixel import pixel_site_get
from attribution.services.pixel import hit_ingest

SCRIPT_PATH = Path(__file__).parent / "pixel" / "p.js"
SCRIPT_MAX_AGE = 3600


@lru_cache(maxsize=1)
def _script() -> bytes:
    return SCRIPT_PATH.read_bytes()


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


def client_ip(request) -> str:
    """The socket address, or the address the trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",")]
        return chain[-hops] if len(chain) >= hops else chain[0]
    return request.META.get("REMOTE_ADDR", "")


@csrf_exempt
def collect(request):
    origin = request.headers.get("Origin")
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
    site = pixel_site_get(public_id=hit.workspace)
    if site is None:
        return _status(404, origin)
    if not site.allows(hit.host) or (origin and origin != "null" and not site.allows(host_of(origin))):
        return _status(403, origin)
    if hit.automated or is_bot(request.headers.get("User-Agent", "")):
        return _status(204, origin)  # nothing stored; a bot learns nothing from the answer
    if not hit_ingest(site=site, hit=hit, ip=client_ip(request)):
        return _status(429, origin)
    return _status(204, origin)
