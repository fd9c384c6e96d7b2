"""A demo sale as Paddle Billing's notifications deliver it (shapes of the reference's §2.3 and §5.3 and §5.4):
the customer (the only event with the email), the subscription, each completed transaction (renewals carry
the subscription's `custom_data`, as Paddle copies it), an approved refund adjustment."""

import json
import uuid
from datetime import datetime

from integrations.processors.demo import DemoDelivery, DemoSale


def _id(prefix: str, *parts: str) -> str:
    return f"{prefix}_{uuid.uuid5(uuid.NAMESPACE_URL, 'demo-paddle:' + ':'.join(parts)).hex[:26]}"


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _delivery(event_type: str, at: datetime, data: dict, *, renewal: bool = False) -> DemoDelivery:
    body = {
        "event_id": _id("evt", event_type, data["id"]),
        "event_type": event_type,
        "occurred_at": _iso(at),
        "notification_id": _id("ntf", event_type, data["id"]),
        "data": data,
    }
    return DemoDelivery(body=json.dumps(body).encode(), headers={}, at=at, renewal=renewal)


def _totals(sale: DemoSale, amount: int) -> dict:
    money = str(amount)
    return {"subtotal": money, "discount": "0", "tax": "0", "total": money, "currency_code": sale.currency}


def _transaction(sale: DemoSale, *, at: datetime, origin: str, subscription: str | None, custom: dict, n: int):
    transaction = _id("txn", sale.ref, str(n))
    return {
        "id": transaction,
        "status": "completed",
        "origin": origin,
        "customer_id": _id("ctm", sale.ref),
        "subscription_id": subscription,
        "invoice_number": f"DEMO-{sale.ref}-{n}",
        "collection_mode": "automatic",
        "currency_code": sale.currency,
        "custom_data": custom or None,
        "details": {"totals": {**_totals(sale, sale.amount_minor), "fee": "0", "earnings": str(sale.amount_minor)}},
        "payments": [{"amount": str(sale.amount_minor), "status": "captured", "captured_at": _iso(at)}],
        "created_at": _iso(at),
        "updated_at": _iso(at),
        "billed_at": _iso(at),
    }


def deliveries(sale: DemoSale) -> list[DemoDelivery]:
    custom = {"trackrev_visitor_id": sale.visitor_ref} if sale.visitor_ref else {}
    customer = {
        "id": _id("ctm", sale.ref),
        "email": sale.email,
        "name": None,
        "status": "active",
        "custom_data": None,
        "locale": "en",
        "created_at": _iso(sale.at),
        "updated_at": _iso(sale.at),
    }
    sent = [_delivery("customer.created", sale.at, customer)]
    subscription = None
    if sale.period:
        subscription = _id("sub", sale.ref)
        starts = sale.renewals[-1] if sale.renewals else sale.at
        interval = "month" if sale.period.days < 60 else "year"
        data = {
            "id": subscription,
            "status": "active",
            "customer_id": customer["id"],
            "currency_code": sale.currency,
            "custom_data": custom or None,
            "billing_cycle": {"interval": interval, "frequency": 1},
            "current_billing_period": {"starts_at": _iso(starts), "ends_at": _iso(starts + sale.period)},
            "scheduled_change": None,
            "created_at": _iso(sale.at),
            "updated_at": _iso(sale.at),
            "started_at": _iso(sale.at),
            "first_billed_at": _iso(sale.at),
            "next_billed_at": _iso(starts + sale.period),
            "canceled_at": None,
            "paused_at": None,
            "transaction_id": _id("txn", sale.ref, "0"),
        }
        sent.append(_delivery("subscription.created", sale.at, data))
    first = _transaction(sale, at=sale.at, origin="web", subscription=subscription, custom=custom, n=0)
    sent.append(_delivery("transaction.completed", sale.at, first))
    for n, at in enumerate(sale.renewals, 1):
        renewal = _transaction(
            sale, at=at, origin="subscription_recurring", subscription=subscription, custom=custom, n=n
        )
        sent.append(_delivery("transaction.completed", at, renewal, renewal=True))
    if sale.refund:
        amount = sale.refund.amount_minor
        adjustment = {
            "id": _id("adj", sale.ref),
            "action": "refund",
            "type": "full" if amount >= sale.amount_minor else "partial",
            "status": "approved",
            "transaction_id": first["id"],
            "subscription_id": subscription,
            "customer_id": customer["id"],
            "reason": "Customer requested a refund",
            "currency_code": sale.currency,
            "totals": {**_totals(sale, amount), "fee": "0", "earnings": str(amount)},
            "created_at": _iso(sale.refund.at),
            "updated_at": _iso(sale.refund.at),
        }
        sent.append(_delivery("adjustment.updated", sale.refund.at, adjustment))
    return sent
