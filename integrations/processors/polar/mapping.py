"""Polar payloads → normalized changes. Pure functions, shared by webhooks and the reconcile poll.

Field facts (see shared/reference/polar.md): amounts are integers in the currency's smallest unit,
currencies lower case, `modified_at` is null until a row is first updated, `net_amount` is revenue
(after discount, before tax), refunds' `amount` is net of tax too. An order names its discount
(`discount_id`) and embeds it, with the code the customer typed (`code`, null for a discount without one).
"""

from datetime import datetime

from integrations.processors.errors import PayloadInvalid
from integrations.processors.parsing import embedded_discount_codes, iso_datetime, visitor_ref
from integrations.processors.types import (
    Change,
    Ignored,
    NormalizedCustomer,
    NormalizedOrder,
    NormalizedRefund,
    NormalizedSubscription,
    OrderChange,
    ParsedEvent,
    RefundChange,
    SubscriptionChange,
)

PROCESSOR = "polar"

ORDER_STATUSES = frozenset({"draft", "pending", "paid", "refunded", "partially_refunded", "void"})
PAID_STATUSES = frozenset({"paid", "refunded", "partially_refunded"})
ORDER_KINDS = {
    "purchase": "one_time",
    "subscription_create": "subscription_create",
    "subscription_cycle": "renewal",
    "subscription_update": "renewal",
    "subscription_meter_cycle": "renewal",
}
SUBSCRIPTION_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "paused", "canceled", "unpaid"}
)
REFUND_STATUSES = frozenset({"pending", "succeeded", "failed", "canceled"})

ORDER_EVENTS = frozenset({"order.created", "order.updated", "order.paid", "order.refunded"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated"})
SUBSCRIPTION_PREFIX = "subscription."


def _source_timestamp(data: dict, fallback: datetime | None) -> datetime:
    stamp = iso_datetime(data.get("modified_at")) or iso_datetime(data.get("created_at")) or fallback
    if stamp is None:
        raise PayloadInvalid("object has no modified_at, created_at or event timestamp")
    return stamp


def customer_from(data: dict | None, fallback: datetime | None) -> NormalizedCustomer | None:
    if not data:
        return None
    return NormalizedCustomer(
        external_id=str(data["id"]),
        email=data.get("email") or "",
        visitor_ref=visitor_ref(data.get("metadata")),
        source_updated_at=_source_timestamp(data, fallback),
    )


def order_from(data: dict, fallback: datetime | None = None) -> Change:
    status, reason = data.get("status"), data.get("billing_reason")
    if status not in ORDER_STATUSES:
        return Ignored(f"unknown order status {status!r}")
    if reason not in ORDER_KINDS:
        return Ignored(f"unknown billing_reason {reason!r}")
    try:
        placed_at = iso_datetime(data["created_at"])
        updated_at = _source_timestamp(data, fallback)
        net = data["net_amount"] if data.get("net_amount") is not None else data["amount"]
        order = NormalizedOrder(
            external_id=str(data["id"]),
            status=status,
            kind=ORDER_KINDS[reason],
            currency=str(data["currency"]).upper(),
            amount_minor=int(net),
            tax_minor=int(data.get("tax_amount") or 0),
            refunded_minor=int(data.get("refunded_amount") or 0),
            placed_at=placed_at,
            # Polar has no paid_at: the state's own timestamp is when we learn it was paid.
            paid_at=updated_at if status in PAID_STATUSES else None,
            visitor_ref=visitor_ref(data.get("metadata")),
            customer=customer_from(data.get("customer"), fallback),
            subscription_external_id=str(data.get("subscription_id") or ""),
            source_updated_at=updated_at,
            discount_codes=embedded_discount_codes(data),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Polar order: {exc!r}") from exc
    return OrderChange(order)


def subscription_from(data: dict, fallback: datetime | None = None) -> Change:
    status = data.get("status")
    if status not in SUBSCRIPTION_STATUSES:
        return Ignored(f"unknown subscription status {status!r}")
    try:
        subscription = NormalizedSubscription(
            external_id=str(data["id"]),
            status=status,
            customer=customer_from(data.get("customer"), fallback),
            current_period_end=iso_datetime(data.get("current_period_end")),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            canceled_at=iso_datetime(data.get("canceled_at")),
            ended_at=iso_datetime(data.get("ended_at")),
            started_at=iso_datetime(data.get("started_at")),
            visitor_ref=visitor_ref(data.get("metadata")),
            source_updated_at=_source_timestamp(data, fallback),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadInvalid(f"unreadable Polar subscription: {exc!r}") from exc
    return SubscriptionChange(subscription)


def refund_from(data: dict, fallback: datetime | None = None) -> Change:
    status = data.get("status")
    if status not in REFUND_STATUSES:
        return Ignored(f"unknown refund status {status!r}")
    try:
        refund = NormalizedRefund(
            external_id=str(data["id"]),
            order_external_id=str(data["order_id"]),
            status=status,
            amount_minor=int(data["amount"]),
            currency=str(data["currency"]).upper(),
            refunded_at=iso_datetime(data["created_at"]),
            source_updated_at=_source_timestamp(data, fallback),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadInvalid(f"unreadable Polar refund: {exc!r}") from exc
    return RefundChange(refund)


def event_from(payload: dict) -> ParsedEvent:
    """A webhook envelope `{"type", "timestamp", "data"}` → its changes."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise PayloadInvalid("not a Polar webhook envelope")
    event_type = str(payload.get("type") or "")
    occurred_at = iso_datetime(payload.get("timestamp"))
    data = payload["data"]
    if event_type in ORDER_EVENTS:
        change = order_from(data, occurred_at)
    elif event_type in REFUND_EVENTS:
        change = refund_from(data, occurred_at)
    elif event_type.startswith(SUBSCRIPTION_PREFIX):
        change = subscription_from(data, occurred_at)
    else:
        change = Ignored(f"event type {event_type!r} is not used")
    return ParsedEvent(processor=PROCESSOR, event_type=event_type, occurred_at=occurred_at, changes=(change,))
