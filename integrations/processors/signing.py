"""Shared, constant-time signing helpers for the adapters (no ad-hoc hmac in adapter code)."""

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from integrations.processors.errors import SignatureStale

TOLERANCE_SECONDS = 5 * 60


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def timestamp_check(*, timestamp: int, now: datetime, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Reject signatures made more than `tolerance` seconds before or after `now`."""
    if abs(now.timestamp() - timestamp) > tolerance:
        raise SignatureStale("signature timestamp outside the tolerance window")


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}
