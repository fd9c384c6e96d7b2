"""Shared, constant-time signing helpers for the adapters (no ad-hoc hmac in adapter code)."""

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from django.http.request import HttpHeaders

from integrations.processors.errors import SignatureStale

TOLERANCE_SECONDS = 5 * 60


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def timestamp_check(*, timestamp: float, now: datetime, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Reject signatures made more than `tolerance` seconds before or after `now`."""
    now_seconds = now.timestamp()
    if timestamp < now_seconds - tolerance or timestamp > now_seconds + tolerance:
        raise SignatureStale("signature timestamp outside the tolerance window")


def b64decode_strict(value: str) -> bytes | None:
    """Base64 with nothing outside the alphabet and exact padding; None when it is not."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def request_headers(meta: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The named headers present in a WSGI environ, by lower-case name (without building all of
    `request.headers`)."""
    return {name: meta[key] for name, key in _wsgi_names(names) if key in meta}


@functools.cache
def _wsgi_names(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, HttpHeaders.to_wsgi_name(name)) for name in names)
