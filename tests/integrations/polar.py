"""Polar payloads shaped exactly like shared/reference/polar.md §7, and signing exactly as Polar signs."""

import base64
import copy
import datetime as dt
import json
import uuid
from pathlib import Path

from standardwebhooks.webhooks import Webhook

PAYLOADS = Path(__file__).parent / "payloads" / "polar"


def payload(name: str, **data_overrides) -> dict:
    """A reference payload (`order_created_purchase`, `order_created_renewal_pending`,
    `subscription_updated_revoked`, `refund_created`) with `data` fields replaced."""
    body = json.loads((PAYLOADS / f"{name}.json").read_text())
    body = copy.deepcopy(body)
    body["data"].update(data_overrides)
    return body


def event(name: str, event_type: str, **data_overrides) -> dict:
    body = payload(name, **data_overrides)
    body["type"] = event_type
    return body


def sign(body: bytes, secret: str, *, msg_id: str | None = None, at: dt.datetime | None = None) -> dict[str, str]:
    """Headers as Polar sends them: the library keyed with base64(secret) (polar.md §1.3)."""
    msg_id = msg_id or str(uuid.uuid4())
    at = at or dt.datetime.now(tz=dt.UTC)
    signature = Webhook(base64.b64encode(secret.encode()).decode()).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "user-agent": "polar.sh webhooks",
        "content-type": "application/json",
    }


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
