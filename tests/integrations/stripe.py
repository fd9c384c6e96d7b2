"""Stripe events shaped like stripe-python's objects at API 2026-06-24.dahlia (shared/reference/
stripe-paddle-lemonsqueezy.md §5), and signing exactly as Stripe signs (stripe-python computes it)."""

import copy
import datetime as dt
import json
from pathlib import Path

import stripe

PAYLOADS = Path(__file__).parent / "payloads" / "stripe"
SECRET = "whsec_5fJq2Lr8Xk0Wd3Zt7Nv1Bp6Hs9Cg4Ma2E"
TOKEN = "rk_test_51QxS0LkdIwHu7ixRestrictedKey0001"

VISITOR = "v_8f3a2c91d4e5f6a7b8c9"  # the subscription checkout's (the payload files')
CUSTOMER = "cus_RtY7uI8oP9aS0d"
SUBSCRIPTION = "sub_1QxTr0LkdIwHu7ixZZ9yX8wV"
INVOICE = "in_1QxTr0LkdIwHu7ixAb12Cd34"
PAYMENT_INTENT = "pi_3QxTr1LkdIwHu7ix0Za1Bc2D"  # the invoice's payment


def payload(name: str, **object_overrides) -> dict:
    """A payload file (`invoice.paid`, `checkout_session_payment`, …: an event type, or a variant) with fields
    of `data.object` replaced."""
    body = copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))
    body["data"]["object"].update(object_overrides)
    return body


def discount() -> dict:
    """The Discount of payloads/stripe/invoice_paid_discounted.json as `expand[]=discounts.promotion_code` shows it."""
    return copy.deepcopy(json.loads((PAYLOADS / "discount.json").read_text()))


def event_types() -> list[str]:
    return sorted(path.stem for path in PAYLOADS.glob("*.*.json"))


def as_event(name: str, obj: dict, **envelope) -> dict:
    """The event of file `name` carrying `obj` instead."""
    body = payload(name)
    body["data"]["object"] = copy.deepcopy(obj)
    body.update(envelope)
    return body


def sign(body: bytes, secret: str, *, at: dt.datetime | None = None) -> dict[str, str]:
    """Headers as Stripe sends them: `t=<unix>,v1=<hex>` (stripe-python's own signature function)."""
    stamp = int((at or dt.datetime.now(tz=dt.UTC)).timestamp())
    signature = stripe.WebhookSignature._compute_signature(f"{stamp}.{body.decode()}", secret)
    return {
        "stripe-signature": f"t={stamp},v1={signature}",
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "content-type": "application/json; charset=utf-8",
    }


def encode(body: dict) -> bytes:
    # Stripe sends pretty-printed JSON: the signature covers these exact bytes.
    return json.dumps(body, indent=2).encode()


def unix(value: dt.datetime) -> int:
    return int(value.timestamp())
