"""What every adapter reads the same way: a JSON body, an ISO 8601 time, our visitor id in a checkout's
custom data, an order's discount codes, a listed object its mapping cannot read (skipped and counted, never
the end of a poll), and the object a fetch by id asked for."""

import json
from collections.abc import Callable
from datetime import datetime

from integrations.processors.errors import PayloadInvalid
from integrations.processors.types import (
    Change,
    NormalizedOrder,
    NormalizedSubscription,
    OrderChange,
    SubscriptionChange,
    Unreadable,
)

# The key of our visitor id in the custom data or metadata every processor carries from the checkout.
VISITOR_KEY = "trackrev_visitor_id"


def json_body(body: bytes):
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PayloadInvalid("body is not JSON") from exc


def iso_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 / RFC 3339 time (`Z` or an offset); None for an empty one."""
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"not an ISO 8601 datetime: {value!r}") from exc


def visitor_ref(custom_data) -> str:
    """Our visitor id in a dict of custom data, "" when absent (values may arrive as numbers)."""
    value = custom_data.get(VISITOR_KEY) if isinstance(custom_data, dict) else None
    return str(value)[:64] if value not in (None, "") else ""


def codes(*values) -> tuple[str, ...]:
    """An order's discount codes as partners' codes are compared with them: lower case (customers type them
    in any case), each once, in order; absent ones (a discount without a code) left out."""
    cleaned = (str(value).strip().lower() for value in values if value is not None)
    return tuple(dict.fromkeys(value for value in cleaned if value))


def embedded_discount_codes(data: dict) -> tuple[str, ...]:
    """The codes of an order that names its discount (`discount_id`) and may embed it (`discount`, with the
    `code` the customer typed, null for a discount without one)."""
    discount = data.get("discount") or {}
    return codes(discount.get("code"), data.get("discount_id"))


def readable(parse: Callable[[dict], Change]) -> Callable[[dict], Change]:
    """`parse` for a listed object: one it cannot read becomes Unreadable (a sync error), not an exception."""

    def parse_item(item: dict) -> Change:
        try:
            return parse(item)
        except PayloadInvalid as exc:
            return Unreadable(str(exc))

    return parse_item


def fetched_order(change: Change, external_id: str) -> NormalizedOrder:
    """The order a fetch by id read; PayloadInvalid, with the mapping's reason, when it is none."""
    if not isinstance(change, OrderChange):
        raise PayloadInvalid(f"order {external_id}: {change.reason}")
    return change.order


def fetched_subscription(change: Change, external_id: str) -> NormalizedSubscription:
    """The subscription a fetch by id read; PayloadInvalid, with the mapping's reason, when it is none."""
    if not isinstance(change, SubscriptionChange):
        raise PayloadInvalid(f"subscription {external_id}: {change.reason}")
    return change.subscription
