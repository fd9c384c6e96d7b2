"""Paddle Billing payloads → normalized changes. Pure functions, shared by webhooks and the reconcile poll.

Field facts (the billing processors' reference notes §2): money is a string in the currency's lowest
denomination, currency codes are upper case, timestamps RFC 3339. A transaction's `details.totals.subtotal`
is before discount and tax; it carries no email (only `customer_id`, or the customer itself when listed with
`include=customer`), and names its discount (`discount_id`, `dsc_…`) but carries the code the customer typed
only when listed with `include=discount`. Refunds and chargebacks are adjustments, booked once approved.
"""

from datetime import UTC, datetime

from integrations.processors.errors import PayloadInvalid
from integrations.processors.parsing import embedded_discount_codes, iso_datetime, visitor_ref
from integrations.processors.types import (
    Change,
    CustomerChange,
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

PROCESSOR = "paddle"
# A customer known only by the id an object names: older than any state of theirs, so it never outranks one.
UNKNOWN_STATE_AT = datetime(1970, 1, 1, tzinfo=UTC)

# Paddle's transaction statuses → ours. `paid` is captured but not yet processed (subscription id and
# invoice may be missing): revenue counts at `completed`, and an older `paid` never replaces it. Drafts and
# ready transactions are open checkouts, not sales.
ORDER_STATUSES = {
    "billed": "pending",
    "paid": "pending",
    "past_due": "pending",
    "completed": "paid",
    "canceled": "void",
}
UNSOLD_STATUSES = frozenset({"draft", "ready"})
LISTED_ORDER_STATUSES = tuple(ORDER_STATUSES)
FIRST_SALE_ORIGINS = frozenset({"web", "api"})
RENEWAL_ORIGINS = frozenset({"subscription_recurring", "subscription_update", "subscription_charge"})
SUBSCRIPTION_STATUSES = frozenset({"active", "canceled", "past_due", "paused", "trialing"})
# Money back to the buyer, or (a won dispute) back to the merchant; credits and warnings move no money.
REFUND_ACTIONS = {"refund": 1, "chargeback": 1, "chargeback_reverse": -1}
# A refund counts once Paddle approves it; `reversed` is a chargeback later won, which its own
# chargeback_reverse adjustment gives back.
REFUND_STATUSES = {"approved": "succeeded", "reversed": "succeeded", "rejected": "failed"}

TRANSACTION_EVENTS = frozenset(
    {
        "transaction.billed",
        "transaction.canceled",
        "transaction.completed",
        "transaction.paid",
        "transaction.past_due",
        "transaction.updated",
    }
)
SUBSCRIPTION_EVENTS = frozenset(
    {
        "subscription.activated",
        "subscription.canceled",
        "subscription.created",
        "subscription.past_due",
        "subscription.paused",
        "subscription.resumed",
        "subscription.trialing",
        "subscription.updated",
    }
)
ADJUSTMENT_EVENTS = frozenset({"adjustment.created", "adjustment.updated"})
CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})


def _source_timestamp(data: dict, fallback: datetime | None) -> datetime:
    stamp = iso_datetime(data.get("updated_at")) or iso_datetime(data.get("created_at")) or fallback
    if stamp is None:
        raise PayloadInvalid("object has no updated_at, created_at or event timestamp")
    return stamp


def _money(totals: dict, field: str) -> int:
    value = totals[field]
    if not isinstance(value, str):
        raise PayloadInvalid(f"{field} is not a string amount: {value!r}")
    return int(value)


def customer_from(data: dict, fallback: datetime | None = None) -> NormalizedCustomer:
    return NormalizedCustomer(
        external_id=str(data["id"]),
        email=data.get("email") or "",
        visitor_ref=visitor_ref(data.get("custom_data")),
        source_updated_at=_source_timestamp(data, fallback),
    )


def _customer_of(data: dict) -> NormalizedCustomer | None:
    """The customer listed with the object (`include=customer`), else one known by id only."""
    if isinstance(data.get("customer"), dict):
        return customer_from(data["customer"])
    if not data.get("customer_id"):
        return None
    return NormalizedCustomer(
        external_id=str(data["customer_id"]), email="", visitor_ref="", source_updated_at=UNKNOWN_STATE_AT
    )


def _order_kind(origin, subscription_id) -> str | None:
    if origin in FIRST_SALE_ORIGINS:
        return "subscription_create" if subscription_id else "one_time"
    return "renewal" if origin in RENEWAL_ORIGINS else None


def _captured_at(payments) -> datetime | None:
    captured = [iso_datetime(p.get("captured_at")) for p in payments or () if p.get("status") == "captured"]
    return min((stamp for stamp in captured if stamp), default=None)


def order_from(data: dict, fallback: datetime | None = None) -> Change:
    status, origin = data.get("status"), data.get("origin")
    if status in UNSOLD_STATUSES:
        return Ignored(f"a {status} transaction is no sale yet")
    if status not in ORDER_STATUSES:
        return Ignored(f"unknown transaction status {status!r}")
    kind = _order_kind(origin, data.get("subscription_id"))
    if kind is None:
        return Ignored(f"transaction origin {origin!r} is no sale")
    try:
        totals = data["details"]["totals"]
        updated_at = _source_timestamp(data, fallback)
        ours = ORDER_STATUSES[status]
        order = NormalizedOrder(
            external_id=str(data["id"]),
            status=ours,
            kind=kind,
            currency=str(data["currency_code"]).upper(),
            amount_minor=_money(totals, "subtotal") - _money(totals, "discount"),
            tax_minor=_money(totals, "tax"),
            refunded_minor=0,  # refunds are adjustments of their own
            placed_at=iso_datetime(data.get("billed_at")) or iso_datetime(data["created_at"]),
            paid_at=(_captured_at(data.get("payments")) or updated_at) if ours == "paid" else None,
            visitor_ref=visitor_ref(data.get("custom_data")),
            customer=_customer_of(data),
            subscription_external_id=str(data.get("subscription_id") or ""),
            source_updated_at=updated_at,
            discount_codes=embedded_discount_codes(data),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Paddle transaction: {exc!r}") from exc
    return OrderChange(order)


def subscription_from(data: dict, fallback: datetime | None = None) -> Change:
    status = data.get("status")
    if status not in SUBSCRIPTION_STATUSES:
        return Ignored(f"unknown subscription status {status!r}")
    try:
        period = data.get("current_billing_period") or {}
        scheduled = data.get("scheduled_change") or {}
        canceled_at = iso_datetime(data.get("canceled_at"))
        subscription = NormalizedSubscription(
            external_id=str(data["id"]),
            status=status,
            customer=_customer_of(data),
            current_period_end=iso_datetime(period.get("ends_at")),
            cancel_at_period_end=scheduled.get("action") == "cancel",
            canceled_at=canceled_at,
            # Paddle cancels when the cancellation takes effect: a canceled subscription has ended.
            ended_at=canceled_at if status == "canceled" else None,
            started_at=iso_datetime(data.get("started_at")),
            visitor_ref=visitor_ref(data.get("custom_data")),
            source_updated_at=_source_timestamp(data, fallback),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Paddle subscription: {exc!r}") from exc
    return SubscriptionChange(subscription)


def refund_from(data: dict, fallback: datetime | None = None) -> Change:
    action, status = data.get("action"), data.get("status")
    if action not in REFUND_ACTIONS:
        return Ignored(f"adjustment action {action!r} moves no money")
    if status == "pending_approval":
        return Ignored("adjustment awaiting Paddle's approval")
    if status not in REFUND_STATUSES:
        return Ignored(f"unknown adjustment status {status!r}")
    try:
        updated_at = _source_timestamp(data, fallback)
        refund = NormalizedRefund(
            external_id=str(data["id"]),
            order_external_id=str(data["transaction_id"]),
            status=REFUND_STATUSES[status],
            # Net of tax; a chargeback reversal gives the amount back.
            amount_minor=REFUND_ACTIONS[action] * abs(_money(data["totals"], "subtotal")),
            currency=str(data["currency_code"]).upper(),
            refunded_at=updated_at,
            source_updated_at=updated_at,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Paddle adjustment: {exc!r}") from exc
    return RefundChange(refund)


def customer_change_from(data: dict, fallback: datetime | None = None) -> Change:
    try:
        return CustomerChange(customer_from(data, fallback))
    except (KeyError, TypeError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Paddle customer: {exc!r}") from exc


MAPPERS = (
    (TRANSACTION_EVENTS, order_from),
    (SUBSCRIPTION_EVENTS, subscription_from),
    (ADJUSTMENT_EVENTS, refund_from),
    (CUSTOMER_EVENTS, customer_change_from),
)


def event_from(payload: dict) -> ParsedEvent:
    """A notification `{"event_id", "event_type", "occurred_at", "notification_id", "data"}` → its changes."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise PayloadInvalid("not a Paddle notification")
    event_type = str(payload.get("event_type") or "")
    occurred_at = iso_datetime(payload.get("occurred_at"))
    mapper = next((mapper for events, mapper in MAPPERS if event_type in events), None)
    change = mapper(payload["data"], occurred_at) if mapper else Ignored(f"event type {event_type!r} is not used")
    return ParsedEvent(processor=PROCESSOR, event_type=event_type, occurred_at=occurred_at, changes=(change,))
