"""Stripe's webhook signatures, read as stripe-python's `WebhookSignature.verify_header` reads them.

`Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of `"{t}.{raw body}"` keyed with the whole
`whsec_…` secret as UTF-8, lowercase hex; any `v1` may match (a rolled secret signs twice), other schemes
are ignored. Stricter than the SDK where Stripe never sends what it tolerates (tests/integrations/
test_stripe_signatures.py lists each case): `t` must be decimal digits, and a time more than the tolerance
ahead is stale too.
"""

from collections.abc import Mapping
from datetime import datetime

from integrations.processors.errors import SignatureInvalid
from integrations.processors.signing import constant_time_equal, hmac_sha256, timestamp_check

SIGNATURE_HEADER = "stripe-signature"
SCHEME = "v1"
TOLERANCE_SECONDS = 300  # stripe-python's Webhook.DEFAULT_TOLERANCE


def signature_hex(secret: str, stamp: int, body: bytes) -> str:
    return hmac_sha256(secret.encode(), f"{stamp}.".encode() + body).hex()


def stripe_signature_verify(*, body: bytes, headers: Mapping[str, str], secret: str, now: datetime) -> None:
    """Raise SignatureInvalid or SignatureStale unless `body` carries a good Stripe signature."""
    header = headers.get(SIGNATURE_HEADER)
    if not header or not secret:
        raise SignatureInvalid("no Stripe-Signature header or no secret")
    pairs = [item.split("=", 2) for item in header.split(",")]
    stamps = [pair[1] for pair in pairs if pair[0] == "t" and len(pair) > 1]
    given = [pair[1] for pair in pairs if pair[0] == SCHEME and len(pair) > 1]
    if not stamps or not (stamps[0].isascii() and stamps[0].isdigit()):
        raise SignatureInvalid("Stripe-Signature has no timestamp")
    if not given:
        raise SignatureInvalid("Stripe-Signature has no v1 signature")
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        raise SignatureInvalid("body is not UTF-8") from exc
    stamp = int(stamps[0])
    expected = signature_hex(secret, stamp, body).encode()
    if not any(constant_time_equal(expected, signature.encode()) for signature in given):
        raise SignatureInvalid("no matching signature")
    timestamp_check(timestamp=stamp, now=now, tolerance=TOLERANCE_SECONDS)
