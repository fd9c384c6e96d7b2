"""Polar's webhook signatures: Standard Webhooks, read exactly as Polar's SDK reads them."""

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from integrations.processors.errors import SignatureInvalid
from integrations.processors.signing import b64decode_strict, constant_time_equal, hmac_sha256, timestamp_check

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
