"""Lemon Squeezy resources → normalized changes. Pure functions, shared by webhooks and the reconcile poll.

Field facts (the processors reference, §3; lmsqueezy/lemonsqueezy.js types): bodies
are JSON:API resources `{type, id, attributes}`; amounts are integers in the currency's minor units,
currencies upper case, times ISO 8601. Orders and subscription invoices are separate records with
separate id sequences; a subscription's first payment is both an order and its `initial` invoice.
Checkout custom data arrives only in a webhook's `meta.custom_data`, never from the REST API.
"""

from collections.abc import Callable
from datetime import datetime

from integrations.processors.errors import PayloadInvalid
from integrations.processors.parsing import iso_datetime, visitor_ref
from integrations.processors.types import (
    Change,
    Ignored,
    NormalizedCustomer,
    NormalizedOrder,
    NormalizedSubscription,
    OrderChange,
    ParsedEvent,
    SubscriptionChange,
)

PROCESSOR = "lemonsqueezy"
# Invoice ids and order ids are separate sequences: an invoice's order is named apart from any order.
INVOICE_PREFIX = "invoice-"

ORDER_STATUSES = {
    "pending": "pending",
    "failed": "void",
    "paid": "paid",
    "refunded": "refunded",
    "partial_refund": "partially_refunded",
    "fraudulent": "void",
}
INVOICE_STATUSES = {
    "pending": "pending",
    "paid": "paid",
    "void": "void",
    "refunded": "refunded",
    "partial_refunded": "partially_refunded",
}
PAID_STATUSES = frozenset({"paid", "refunded", "partially_refunded"})
# `initial` is the payment its subscription's first order already counts (and refunds): never twice.
INVOICE_KINDS = {"renewal": "renewal", "updated": "renewal"}
# `cancelled` still runs until `ends_at` (a grace period); `expired` has ended.
SUBSCRIPTION_STATUSES = {
    "on_trial": "trialing",
    "active": "active",
    "paused": "paused",
    "past_due": "past_due",
    "unpaid": "unpaid",
    "cancelled": "active",
    "expired": "canceled",
}

ORDER_EVENTS = frozenset({"order_created", "order_refunded"})
SUBSCRIPTION_EVENTS = frozenset(
    {
        "subscription_created",
        "subscription_updated",
        "subscription_cancelled",
        "subscription_resumed",
        "subscription_expired",
        "subscription_paused",
        "subscription_unpaused",
    }
)
INVOICE_EVENTS = frozenset({"subscription_payment_success", "subscription_payment_refunded"})
EVENTS = ORDER_EVENTS | SUBSCRIPTION_EVENTS | INVOICE_EVENTS


def _attributes(resource: dict) -> dict:
    attributes = resource.get("attributes") if isinstance(resource, dict) else None
    if not isinstance(attributes, dict) or resource.get("id") in (None, ""):
        raise PayloadInvalid("not a JSON:API resource with an id and attributes")
    return attributes


def _source_timestamp(attributes: dict) -> datetime:
    stamp = iso_datetime(attributes.get("updated_at")) or iso_datetime(attributes.get("created_at"))
    if stamp is None:
        raise PayloadInvalid("object has no updated_at or created_at")
    return stamp


def _customer(attributes: dict) -> NormalizedCustomer | None:
    # The buyer's email rides on every record: attribution's email step matches orders without custom data.
    if not attributes.get("customer_id"):
        return None
    return NormalizedCustomer(
        external_id=str(attributes["customer_id"]),
        email=attributes.get("user_email") or "",
        visitor_ref="",
        source_updated_at=_source_timestamp(attributes),
    )


def _amounts(attributes: dict) -> tuple[int, int, int]:
    """(net, tax, net refunded). Net is `total - tax`: after discounts, before tax, whatever `subtotal`
    holds (tax-inclusive prices, setup fees). `refunded_amount` is cumulative and counts tax like `total`
    does: its net share is the order's refunded revenue."""
    total, tax = int(attributes["total"]), int(attributes.get("tax") or 0)
    net, refunded = total - tax, int(attributes.get("refunded_amount") or 0)
    if refunded <= 0 or total <= 0:
        return net, tax, 0
    return net, tax, min(net, (refunded * net + total // 2) // total)


def _order(attributes: dict, custom_data, **fields) -> NormalizedOrder:
    placed_at = iso_datetime(attributes["created_at"])
    net, tax, refunded = _amounts(attributes)
    return NormalizedOrder(
        currency=str(attributes["currency"]).upper(),
        amount_minor=net,
        tax_minor=tax,
        refunded_minor=refunded,
        placed_at=placed_at,
        # Created when paid (a pending one turns paid later): the time it was placed.
        paid_at=placed_at if fields["status"] in PAID_STATUSES else None,
        visitor_ref=visitor_ref(custom_data),
        customer=_customer(attributes),
        source_updated_at=_source_timestamp(attributes),
        **fields,
    )


def order_from(resource: dict, custom_data=None) -> Change:
    """An `orders` resource. It does not name its subscription: the subscription names it (`order_id`)."""
    attributes = _attributes(resource)
    status = ORDER_STATUSES.get(attributes.get("status"))
    if status is None:
        return Ignored(f"unknown order status {attributes.get('status')!r}")
    try:
        order = _order(
            attributes,
            custom_data,
            external_id=str(resource["id"]),
            status=status,
            kind="one_time",
            subscription_external_id="",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadInvalid(f"unreadable order: {exc!r}") from exc
    return OrderChange(order)


def invoice_from(resource: dict, custom_data=None) -> Change:
    """A `subscription-invoices` resource: `id` is the invoice's, `subscription_id` its subscription's."""
    attributes = _attributes(resource)
    reason, status = attributes.get("billing_reason"), INVOICE_STATUSES.get(attributes.get("status"))
    if reason == "initial":
        return Ignored("initial invoice: its subscription's first order counts that payment")
    if reason not in INVOICE_KINDS:
        return Ignored(f"unknown billing_reason {reason!r}")
    if status is None:
        return Ignored(f"unknown invoice status {attributes.get('status')!r}")
    try:
        order = _order(
            attributes,
            custom_data,
            external_id=f"{INVOICE_PREFIX}{resource['id']}",
            status=status,
            kind=INVOICE_KINDS[reason],
            subscription_external_id=str(attributes["subscription_id"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadInvalid(f"unreadable subscription invoice: {exc!r}") from exc
    return OrderChange(order)


def subscription_from(resource: dict, custom_data=None) -> Change:
    """A `subscriptions` resource. It carries no amount (its orders and invoices do) and no time of
    cancellation: `ends_at` is when a cancelled one ends, or an expired one ended."""
    attributes = _attributes(resource)
    status = SUBSCRIPTION_STATUSES.get(attributes.get("status"))
    if status is None:
        return Ignored(f"unknown subscription status {attributes.get('status')!r}")
    try:
        updated_at = _source_timestamp(attributes)
        ends_at = iso_datetime(attributes.get("ends_at"))
        ending = attributes["status"] in ("cancelled", "expired")
        subscription = NormalizedSubscription(
            external_id=str(resource["id"]),
            status=status,
            customer=_customer(attributes),
            current_period_end=ends_at if ending else iso_datetime(attributes.get("renews_at")),
            cancel_at_period_end=attributes["status"] == "cancelled",
            canceled_at=None,
            ended_at=(ends_at or updated_at) if attributes["status"] == "expired" else None,
            started_at=iso_datetime(attributes.get("created_at")),
            visitor_ref=visitor_ref(custom_data),
            source_updated_at=updated_at,
            first_order_external_id=str(attributes.get("order_id") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadInvalid(f"unreadable subscription: {exc!r}") from exc
    return SubscriptionChange(subscription)


PARSERS: dict[str, Callable[..., Change]] = {
    "orders": order_from,
    "subscriptions": subscription_from,
    "subscription-invoices": invoice_from,
}


def event_name(payload) -> str:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    return str(meta.get("event_name") or "")[:100] if isinstance(meta, dict) else ""


def event_from(payload: dict) -> ParsedEvent:
    """A webhook body `{"meta": {event_name, custom_data}, "data": resource}` → its changes. There is no
    event timestamp: the resource's `updated_at` is the time of the state it carries."""
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise PayloadInvalid("not a webhook body with meta")
    name = event_name(payload)
    if name not in EVENTS:
        return ParsedEvent(
            processor=PROCESSOR, event_type=name, occurred_at=None, changes=(Ignored(f"{name!r} unused"),)
        )
    data = payload.get("data")
    parse = PARSERS.get(data.get("type")) if isinstance(data, dict) else None
    if parse is None:
        raise PayloadInvalid(f"{name} data is not an order, subscription or subscription invoice")
    occurred_at = _source_timestamp(_attributes(data))
    change = parse(data, payload["meta"].get("custom_data"))
    return ParsedEvent(processor=PROCESSOR, event_type=name, occurred_at=occurred_at, changes=(change,))
