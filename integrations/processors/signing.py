"""Shared, constant-time signing helpers for the adapters (no ad-hoc hmac in adapter code)."""

import base64
import binascii
import functools
import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.http.request import HttpHeaders

from integrations.processors.errors import SignatureInvalid, SignatureStale

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


STANDARD_WEBHOOKS_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def standard_webhooks_verify(*, body: bytes, headers: Mapping[str, str], keys: Iterable[bytes], now: datetime) -> None:
    """A Standard Webhooks signature (standardwebhooks.com), read exactly as Polar's SDK reads it
    (polar-sdk 1.0.2, `polar.webhooks.validate_event`; tests/integrations/test_polar_signatures.py holds
    the two to the same answers): the timestamp may be fractional (the floor is signed), the signature
    header is a whitespace-separated list in which any `v1,<strict base64>` entry may match one of
    `keys`, and the body must be UTF-8. Raises SignatureInvalid or SignatureStale."""
    msg_id, stamp, signatures = (headers.get(name) for name in STANDARD_WEBHOOKS_HEADERS)
    if not (msg_id and stamp and signatures):
        raise SignatureInvalid("missing Standard Webhooks headers")
    try:
        timestamp = float(stamp)
    except ValueError as exc:
        raise SignatureInvalid("webhook-timestamp is not a number") from exc
    if not math.isfinite(timestamp):
        raise SignatureInvalid("webhook-timestamp is not a number")
    timestamp_check(timestamp=timestamp, now=now)
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        raise SignatureInvalid("body is not UTF-8") from exc
    signed = f"{msg_id}.{math.floor(timestamp)}.".encode() + body
    given = []
    for entry in signatures.split():
        version, comma, value = entry.partition(",")
        if version == "v1" and comma and (signature := b64decode_strict(value)) is not None:
            given.append(signature)
    expected = [hmac_sha256(key, signed) for key in keys]
    if not any(constant_time_equal(mine, theirs) for mine in expected for theirs in given):
        raise SignatureInvalid("no matching signature")


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
