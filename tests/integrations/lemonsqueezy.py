"""Lemon Squeezy payloads shaped like shared/reference/stripe-paddle-lemonsqueezy.md §5.5-5.6 and the
lemonsqueezy.js types (full resources, as webhooks and the REST API send them), and signing exactly as
Lemon Squeezy signs: `X-Signature` = hex HMAC-SHA256 of the raw body under the webhook's signing secret."""

import copy
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads" / "lemonsqueezy"
NAMES = sorted(path.stem for path in PAYLOADS.glob("*.json"))


def payload(name: str, *, custom_data: dict | None = None, **attributes) -> dict:
    """A webhook body (`order_created`, `subscription_payment_success_renewal`, … see NAMES) with
    `data.attributes` fields replaced, and `meta.custom_data` when given ({} drops it)."""
    body = copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))
    body["data"]["attributes"].update(attributes)
    if custom_data is not None:
        body["meta"].pop("custom_data", None)
        if custom_data:
            body["meta"]["custom_data"] = custom_data
    return body


def resource(name: str, **attributes) -> dict:
    """The resource of a payload, as the REST API returns it (no meta, so no custom data)."""
    return payload(name, **attributes)["data"]


def sign(body: bytes, secret: str, *, at: dt.datetime | None = None) -> dict[str, str]:
    """Headers as Lemon Squeezy sends them. No time is signed: `at` is accepted for the contract kit only."""
    return {
        "x-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "x-event-name": json.loads(body)["meta"]["event_name"],
        "content-type": "application/json",
    }


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
