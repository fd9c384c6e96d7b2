"""Requests to an address a tenant chose (outbound webhook endpoints): https only outside DEBUG; the host
is resolved and refused when any of its addresses is loopback, private, link-local (cloud metadata
included), CGNAT, multicast or reserved, and the address actually connected to is checked again (a name
that resolves to a public address for the check and to an internal one for the connection, DNS
rebinding, is refused at connect time); redirects are never followed; connect and read timeouts are
short; at most EXCERPT_BYTES of the answer are read. Operators may allow extra networks
(OUTBOUND_ALLOWED_NETWORKS, e.g. a receiver on their own private network; empty by default)."""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

TIMEOUT = (3.05, 10)  # seconds: connect, read
EXCERPT_BYTES = 2048
# Shared address space (RFC 6598) is not "private" to Python's ipaddress, but is internal to a carrier or cloud.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class OutboundRefused(Exception):
    """The URL or the address it leads to may not be asked; the message is safe to show."""


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.OUTBOUND_ALLOWED_NETWORKS]


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return True
    internal = ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
    return not (internal or ip.is_unspecified or (ip.version == 4 and ip in CGNAT))


def url_check(url: str) -> str:
    """The URL's host, once every address it resolves to is allowed; else OutboundRefused."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (settings.DEBUG and parts.scheme == "http"):
        raise OutboundRefused("Only https URLs are allowed.")
    if not parts.hostname or parts.username or parts.password:
        raise OutboundRefused("The URL needs a host, and no user name or password.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundRefused(f"The host {parts.hostname} does not resolve.") from error
    refused = sorted({info[4][0] for info in infos if not address_allowed(info[4][0])})
    if refused:
        raise OutboundRefused(f"The host {parts.hostname} resolves to an internal address ({refused[0]}).")
    return parts.hostname


class _Guarded:
    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not address_allowed(peer):
            sock.close()
            raise OutboundRefused(f"Connected to an internal address ({peer}): refused.")
        return sock


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    duration_ms: int
    excerpt: str  # at most EXCERPT_BYTES of the body, decoded leniently


def outbound_post(url: str, *, body: bytes, headers: dict[str, str]) -> OutboundResponse:
    """POST `body` to `url` under every check above. Network failures raise requests' exceptions; a
    refused URL or address raises OutboundRefused."""
    url_check(url)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would connect for us, unchecked
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    started = time.monotonic()
    try:  # a connect-time refusal is not an OSError: urllib3 and requests let it through as it is
        with session.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True) as r:
            excerpt = r.raw.read(EXCERPT_BYTES, decode_content=False)
            return OutboundResponse(r.status_code, round((time.monotonic() - started) * 1000), _text(excerpt))
    finally:
        session.close()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")  # PostgreSQL text holds no NUL
