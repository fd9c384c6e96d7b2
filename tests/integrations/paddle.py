"""Paddle Billing payloads shaped like shared/reference/stripe-paddle-lemonsqueezy.md §5.3 and §5.4 and the
SDK's fixtures (one file per event type), and signing exactly as Paddle signs."""

import copy
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads" / "paddle"
EVENT_TYPES = tuple(sorted(path.stem for path in PAYLOADS.glob("*.json")))


def payload(event_type: str, **data_overrides) -> dict:
    """The notification of `event_type` (a file in payloads/paddle) with `data` fields replaced."""
    body = copy.deepcopy(json.loads((PAYLOADS / f"{event_type}.json").read_text()))
    body["data"].update(data_overrides)
    return body


# A transaction that used a discount with a code, and that discount as `include=discount` embeds it.
DISCOUNTED = "discounted/transaction.completed"


def discount() -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / "discounted" / "discount.json").read_text()))


def signature(body: bytes, secret: str, at: dt.datetime) -> str:
    stamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"ts={stamp};h1={digest}"


def sign(body: bytes, secret: str, *, at: dt.datetime | None = None) -> dict[str, str]:
    """Headers as Paddle sends them (reference §2.1)."""
    at = at or dt.datetime.now(tz=dt.UTC)
    return {"paddle-signature": signature(body, secret, at), "content-type": "application/json"}


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
