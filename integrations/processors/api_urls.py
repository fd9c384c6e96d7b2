"""Which API base URLs a connection may call: no server-side request forgery.

Outside DEBUG a URL must name, over https, the host and port of one of the adapter's own APIs
(production, sandbox), or a host the operator lists in PROCESSOR_API_HOSTS (`host` for any port,
`host:port` for one; http allowed too, since local fakes are http). An allow-list, so loopback, private
and metadata addresses in any spelling (2130706433, 0x7f.1, [::ffff:127.0.0.1], metadata.google.internal)
are refused for not being on it. Hosts are compared as requests will connect to them: lowercase, IDNA,
no trailing dot, default port filled in. URLs that parsers read differently (userinfo, backslashes,
whitespace, control characters) are refused outright.
"""

import ipaddress
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

import idna
from django.conf import settings

from integrations.processors.errors import ApiUrlNotAllowed

DEFAULT_PORTS = {"http": 80, "https": 443}
AMBIGUOUS = frozenset("\\@")


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int | None  # None: any port (an operator's entry without one)


def api_url_check(*, url: str, own: Iterable[str]) -> None:
    """Raise ApiUrlNotAllowed unless `url` may be called; `own`: the adapter's API base URLs."""
    if settings.DEBUG:
        return
    target = _origin(url)
    if target.scheme == "https" and any(target == _origin(base) for base in own if base):
        return
    for entry in filter(None, map(str.strip, settings.PROCESSOR_API_HOSTS)):
        listed = _origin(f"//{entry}", scheme=target.scheme, default_port=False)
        if listed.host == target.host and listed.port in (None, target.port):
            return
    raise ApiUrlNotAllowed(f"API base URL {url!r} is not allowed")


def _origin(url: str, *, scheme: str = "", default_port: bool = True) -> Origin:
    if any(char in AMBIGUOUS or char.isspace() or not char.isprintable() for char in url):
        raise ApiUrlNotAllowed(f"ambiguous URL {url!r}")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower() or scheme
        port = parts.port
        host = _host(parts.hostname or "")
    except (ValueError, idna.IDNAError) as exc:
        raise ApiUrlNotAllowed(f"unreadable URL {url!r}") from exc
    if scheme not in DEFAULT_PORTS or not host:
        raise ApiUrlNotAllowed(f"not an http(s) URL with a host: {url!r}")
    if port is None and default_port:
        port = DEFAULT_PORTS[scheme]
    return Origin(scheme, host, port)


def _host(host: str) -> str:
    # urlsplit has lowercased it and taken the brackets off an IPv6 literal.
    host = host.removesuffix(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    # Strict IDNA, as urllib3 encodes a non-ASCII host for requests (`parse_url`).
    return host if host.isascii() else idna.encode(host).decode("ascii")
