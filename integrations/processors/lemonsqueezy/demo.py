"""A demo sale as Lemon Squeezy's webhooks deliver it (shapes of the billing processors' reference notes
§3.3 and §5.5-5.6): the order, then its subscription naming it, the subscription invoices, the refund."""

import hashlib
import json
from datetime import datetime

from integrations.processors.demo import DemoDelivery, DemoSale

STORE = 51234


def _id(*parts: str) -> int:
    # Lemon Squeezy ids are integers: a stable one per demo object.
    return int(hashlib.sha256(":".join(("demo-ls", *parts)).encode()).hexdigest()[:12], 16)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _delivery(event: str, kind: str, id_: int, attributes: dict, custom: dict, *, renewal=False) -> DemoDelivery:
    meta = {"event_name": event, "test_mode": False, **({"custom_data": custom} if custom else {})}
    body = {"meta": meta, "data": {"type": kind, "id": str(id_), "attributes": attributes}}
    at = datetime.fromisoformat(attributes["updated_at"])
    return DemoDelivery(body=json.dumps(body).encode(), headers={"x-event-name": event}, at=at, renewal=renewal)


def _payment(sale: DemoSale, *, created: datetime, updated: datetime, refunded: int = 0) -> dict:
    """What orders and subscription invoices share: the buyer and the money (demo prices carry no tax)."""
    return {
        "store_id": STORE,
        "customer_id": _id(sale.ref, "customer"),
        "user_name": sale.email.partition("@")[0].title(),
        "user_email": sale.email,
        "currency": sale.currency,
        "subtotal": sale.amount_minor,
        "discount_total": 0,
        "tax": 0,
        "tax_inclusive": False,
        "total": sale.amount_minor,
        "refunded_amount": refunded,
        "refunded": refunded > 0,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "test_mode": False,
    }


def _order(sale: DemoSale, *, updated: datetime, refunded: int = 0) -> dict:
    status = "paid" if not refunded else "refunded" if refunded >= sale.amount_minor else "partial_refund"
    payment = _payment(sale, created=sale.at, updated=updated, refunded=refunded)
    return {**payment, "identifier": f"demo-{sale.ref}", "order_number": _id(sale.ref) % 100_000, "status": status}


def deliveries(sale: DemoSale) -> list[DemoDelivery]:
    custom = {"trackrev_visitor_id": sale.visitor_ref} if sale.visitor_ref else {}
    order_id = _id(sale.ref, "order")
    sent = [_delivery("order_created", "orders", order_id, _order(sale, updated=sale.at), custom)]
    if sale.period:
        subscription_id = _id(sale.ref, "subscription")
        last_paid = sale.renewals[-1] if sale.renewals else sale.at
        subscription = {
            "store_id": STORE,
            "customer_id": _id(sale.ref, "customer"),
            "order_id": order_id,  # names its first order, which names no subscription
            "user_email": sale.email,
            "status": "active",
            "cancelled": False,
            "renews_at": _iso(last_paid + sale.period),
            "ends_at": None,
            "created_at": _iso(sale.at),
            "updated_at": _iso(sale.at),
            "test_mode": False,
        }
        sent.append(_delivery("subscription_created", "subscriptions", subscription_id, subscription, custom))
        for n, (reason, at) in enumerate([("initial", sale.at), *(("renewal", at) for at in sale.renewals)]):
            invoice = {
                **_payment(sale, created=at, updated=at),
                "subscription_id": subscription_id,
                "billing_reason": reason,
                "status": "paid",
            }
            # No custom data on payment events: renewals match through their subscription.
            invoice_id = _id(sale.ref, "invoice", str(n))
            renewal = reason == "renewal"
            sent.append(
                _delivery(
                    "subscription_payment_success", "subscription-invoices", invoice_id, invoice, {}, renewal=renewal
                )
            )
    if sale.refund:
        refunded = _order(sale, updated=sale.refund.at, refunded=sale.refund.amount_minor)
        sent.append(_delivery("order_refunded", "orders", order_id, refunded, custom))
    return sent
