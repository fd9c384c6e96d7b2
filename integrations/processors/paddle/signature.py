"""Paddle's webhook signatures: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`, read as Paddle's SDK reads
them (paddle-python-sdk 1.16.1, `Notifications.Verifier`; tests/integrations/test_paddle_signatures.py holds
the two to the same answers)."""

from collections.abc import Mapping
from datetime import datetime

from integrations.processors.errors import SignatureInvalid
from integrations.processors.signing import constant_time_equal, hmac_sha256, timestamp_check

SIGNATURE_HEADER = "paddle-signature"
# Paddle's SDKs allow 5 s between signing and receipt, either way: the signature is checked at receipt.
TOLERANCE_SECONDS = 5


def paddle_verify(*, body: bytes, headers: Mapping[str, str], secret: str, now: datetime) -> None:
    """HMAC-SHA256 keyed with the whole `pdl_ntfset_…` secret over `"{ts}:{raw body}"`, lowercase hex; any
    `h1` may match (several during a secret's rotation). Raises SignatureInvalid or SignatureStale."""
    header = headers.get(SIGNATURE_HEADER)
    if not header or not secret:
        raise SignatureInvalid("missing Paddle-Signature header or secret")
    stamp, signatures = None, []
    for pair in header.split(";"):
        key, equals, value = pair.partition("=")
        if key == "ts" and equals:
            stamp = value  # the last one, as the SDK reads it
        elif key == "h1" and equals:
            signatures.append(value.encode())
        # Any other key is skipped (the SDK refuses the header): a scheme Paddle adds beside h1 must not
        # turn away deliveries that carry a good h1.
    try:
        stamp = int(stamp)  # signed as this number, as the SDK signs it: "+0170…" is "170…"
    except (TypeError, ValueError) as exc:
        raise SignatureInvalid("Paddle-Signature has no ts in whole seconds") from exc
    timestamp_check(timestamp=stamp, now=now, tolerance=TOLERANCE_SECONDS)
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        raise SignatureInvalid("body is not UTF-8") from exc
    expected = hmac_sha256(secret.encode(), f"{stamp}:".encode() + body).hex().encode()
    if not any(constant_time_equal(expected, signature) for signature in signatures):
        raise SignatureInvalid("no matching signature")
