"""The wire format between p.js and /collect (private to the two; change them together).

A hit is one JSON object, sent as `text/plain` so the browser makes a CORS-simple request:

    {"w": "ws_…",            workspace public id
     "v": "k3J…",            visitor id (the `trackrev_vid` cookie, or the in-memory id before consent)
     "k": "pv" | "id" | "cs", page view, identify, or consent (proxy mode: asks only for the cookie)
     "u": "https://…",       page URL (UTMs, click ids and via/ref are read from its query)
     "r": "https://…",       referrer: document.referrer on load, the previous URL on SPA navigations
     "s": true,              first hit after 30 minutes idle (tracked by p.js)
     "e": "a@b.c",           identify only: the email (hashed on arrival, never stored)
     "a": true,              the browser reports automation (navigator.webdriver)
     "p": 1,                 proxy mode, consent given: a proxied answer sets the `trackrev_vid` cookie
     "c": ".yoursite.com"}   proxy mode: the snippet's data-cookie-domain, the cookie's Domain
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from trackrev.common.strict_json import JsonInvalid, json_loads_strict

MAX_BODY = 8 * 1024
PAGE_VIEW = "pv"
IDENTIFY = "id"
CONSENT = "cs"
# Matched whole (fullmatch): `$` would let a trailing newline through, and the visitor id may end up in
# a Set-Cookie header (proxy mode).
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
WORKSPACE_ID = re.compile(r"^ws_[a-z0-9_]{1,29}$")
# A cookie domain: dot-separated host labels, an optional leading dot. Nothing else reaches a header.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
COOKIE_DOMAIN = re.compile(rf"\.?(?:{_LABEL}\.)*{_LABEL}")
DOMAIN_MAX = 253
URL_MAX = 2048
EMAIL_MAX = 254


class WireError(ValueError):
    """The body is not a valid hit (→ 400)."""


@dataclass(frozen=True, slots=True)
class Hit:
    workspace: str
    visitor_id: str
    kind: str
    url: str
    host: str
    referrer: str = ""
    session_start: bool = False
    email: str = ""
    automated: bool = False
    persist: bool = False
    cookie_domain: str = ""


def _str(data: dict, key: str, *, required: bool = False, limit: int = URL_MAX) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise WireError(f"{key!r} must be a string of at most {limit} characters")
    return value


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool | int) or value not in (0, 1):
        raise WireError(f"{key!r} must be a boolean")
    return bool(value)


def _http_host(url: str, key: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        raise WireError(f"{key!r} is not a URL") from error
    if parts.scheme not in ("http", "https") or not host:
        raise WireError(f"{key!r} must be an http(s) URL")
    return host


def parse(body: bytes) -> Hit:
    try:
        data = json_loads_strict(body)
    except JsonInvalid as error:
        raise WireError(f"body is not JSON we accept: {error}") from error
    if not isinstance(data, dict):
        raise WireError("body must be a JSON object")
    workspace = _str(data, "w", required=True, limit=32)
    visitor_id = _str(data, "v", required=True, limit=64)
    kind = _str(data, "k", required=True, limit=2)
    url = _str(data, "u", required=True)
    referrer = _str(data, "r")
    if not WORKSPACE_ID.fullmatch(workspace):
        raise WireError("'w' is not a workspace id")
    if not VISITOR_ID.fullmatch(visitor_id):
        raise WireError("'v' is not a visitor id")
    if kind not in (PAGE_VIEW, IDENTIFY, CONSENT):
        raise WireError("'k' must be 'pv', 'id' or 'cs'")
    cookie_domain = _str(data, "c", limit=DOMAIN_MAX + 1).lower()
    if cookie_domain and not COOKIE_DOMAIN.fullmatch(cookie_domain):
        raise WireError("'c' is not a domain")
    host = _http_host(url, "u")
    if referrer:
        try:
            urlsplit(referrer).hostname  # noqa: B018 — only validates
        except ValueError as error:
            raise WireError("'r' is not a URL") from error
    email = _str(data, "e", limit=EMAIL_MAX).strip()
    if kind == IDENTIFY and ("@" not in email or any(c.isspace() for c in email)):
        raise WireError("'e' must be an email address")
    return Hit(
        workspace=workspace,
        visitor_id=visitor_id,
        kind=kind,
        url=url,
        host=host,
        referrer=referrer,
        session_start=_bool(data, "s"),
        email=email if kind == IDENTIFY else "",
        automated=_bool(data, "a"),
        persist=_bool(data, "p"),
        cookie_domain=cookie_domain,
    )
