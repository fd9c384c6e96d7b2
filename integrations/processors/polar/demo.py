"""A demo sale as Polar's webhooks deliver it (shapes of shared/reference/polar.md §7)."""

import json
import uuid
from datetime import datetime

from integrations.processors.demo import DemoDelivery, DemoSale

ORGANIZATION = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "demo-polar:" + ":".join(parts)))


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _delivery(event_type: str, at: datetime, data: dict, *, renewal: bool = False) -> DemoDelivery:
    body = {"type": event_type, "timestamp": _iso(at), "data": data}
    return DemoDelivery(body=json.dumps(body).encode(), headers={}, at=at, renewal=renewal)


def _customer(sale: DemoSale) -> dict:
    return {
        "id": _id(sale.ref, "customer"),
        "created_at": _iso(sale.at),
        "modified_at": None,
        "metadata": {},
        "external_id": None,
        "email": sale.email,
        "email_verified": False,
        "name": None,
        "organization_id": ORGANIZATION,
        "deleted_at": None,
    }


def _order(sale: DemoSale, *, order_id: str, at: datetime, reason: str, metadata: dict, subscription: str | None):
    return {
        "id": order_id,
        "created_at": _iso(at),
        "modified_at": None,
        "status": "paid",
        "paid": True,
        "subtotal_amount": sale.amount_minor,
        "discount_amount": 0,
        "net_amount": sale.amount_minor,
        "amount": sale.amount_minor,
        "tax_amount": 0,
        "total_amount": sale.amount_minor,
        "refunded_amount": 0,
        "refunded_tax_amount": 0,
        "currency": sale.currency.lower(),
        "billing_reason": reason,
        "customer_id": _id(sale.ref, "customer"),
        "subscription_id": subscription,
        "metadata": metadata,
        "customer": _customer(sale),
    }


def deliveries(sale: DemoSale) -> list[DemoDelivery]:
    metadata = {"trackrev_visitor_id": sale.visitor_ref} if sale.visitor_ref else {}
    first = _id(sale.ref, "order")
    sent = []
    subscription = None
    if sale.period:
        subscription = _id(sale.ref, "subscription")
        period_end = (sale.renewals[-1] if sale.renewals else sale.at) + sale.period
        data = {
            "id": subscription,
            "created_at": _iso(sale.at),
            "modified_at": _iso(sale.at),
            "amount": sale.amount_minor,
            "currency": sale.currency.lower(),
            "recurring_interval": "month" if sale.period.days < 60 else "year",
            "status": "active",
            "current_period_start": _iso(period_end - sale.period),
            "current_period_end": _iso(period_end),
            "cancel_at_period_end": False,
            "canceled_at": None,
            "started_at": _iso(sale.at),
            "ends_at": None,
            "ended_at": None,
            "customer_id": _id(sale.ref, "customer"),
            "metadata": metadata,
            "customer": _customer(sale),
        }
        sent.append(_delivery("subscription.created", sale.at, data))
    reason = "subscription_create" if subscription else "purchase"
    sent.append(
        _delivery(
            "order.paid",
            sale.at,
            _order(sale, order_id=first, at=sale.at, reason=reason, metadata=metadata, subscription=subscription),
        )
    )
    for n, at in enumerate(sale.renewals, 1):
        # Renewals carry the subscription's metadata, which here never had the visitor id: they match
        # through the subscription's first order.
        order = _order(
            sale,
            order_id=_id(sale.ref, "renewal", str(n)),
            at=at,
            reason="subscription_cycle",
            metadata={},
            subscription=subscription,
        )
        sent.append(_delivery("order.paid", at, order, renewal=True))
    if sale.refund:
        refund = {
            "id": _id(sale.ref, "refund"),
            "created_at": _iso(sale.refund.at),
            "modified_at": None,
            "metadata": {},
            "status": "succeeded",
            "reason": "customer_request",
            "amount": sale.refund.amount_minor,
            "tax_amount": 0,
            "currency": sale.currency.lower(),
            "organization_id": ORGANIZATION,
            "order_id": first,
            "subscription_id": subscription,
            "customer_id": _id(sale.ref, "customer"),
        }
        sent.append(_delivery("refund.created", sale.refund.at, refund))
    return sent
