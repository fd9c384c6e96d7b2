"""A demo sale as Stripe's webhooks deliver it (API 2026-06-24.dahlia): the customer, the Checkout Session
(its metadata names the visitor), for a subscription the subscription and each paid invoice, a refund; and
what Stripe's API answers when the refund's payment is looked up."""

import json
import uuid
from datetime import datetime
from decimal import Decimal

from integrations.processors.demo import DemoDelivery, DemoSale
from integrations.processors.stripe.mapping import API_VERSION, stripe_exponent
from trackrev.common.money import currency_exponent


def _id(prefix: str, *parts: str) -> str:
    return f"{prefix}_{uuid.uuid5(uuid.NAMESPACE_URL, 'demo-stripe:' + ':'.join(parts)).hex[:24]}"


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def _units(amount_minor: int, currency: str) -> int:
    """ISO minor units → Stripe's unit of the currency (they differ for ISK and MGA)."""
    return int(Decimal(amount_minor).scaleb(stripe_exponent(currency) - currency_exponent(currency)))


def _delivery(event_type: str, at: datetime, data: dict, *, renewal: bool = False, api=None) -> DemoDelivery:
    body = {
        "id": _id("evt", event_type, data["id"]),
        "object": "event",
        "api_version": API_VERSION,
        "created": _unix(at),
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": data},
    }
    return DemoDelivery(body=json.dumps(body).encode(), headers={}, at=at, renewal=renewal, api=api or {})


def _invoice(sale: DemoSale, *, at: datetime, subscription: str, n: int) -> dict:
    amount = _units(sale.amount_minor, sale.currency)
    return {
        "id": _id("in", sale.ref, str(n)),
        "object": "invoice",
        "billing_reason": "subscription_create" if n == 0 else "subscription_cycle",
        "status": "paid",
        "currency": sale.currency.lower(),
        "subtotal": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "amount_due": amount,
        "amount_paid": amount,
        "customer": _id("cus", sale.ref),
        "customer_email": sale.email,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription},
        },
        "created": _unix(at),
        "status_transitions": {"finalized_at": _unix(at), "paid_at": _unix(at), "voided_at": None},
    }


def deliveries(sale: DemoSale) -> list[DemoDelivery]:
    metadata = {"trackrev_visitor_id": sale.visitor_ref} if sale.visitor_ref else {}
    customer = _id("cus", sale.ref)
    amount = _units(sale.amount_minor, sale.currency)
    sent = [
        _delivery(
            "customer.created",
            sale.at,
            {"id": customer, "object": "customer", "email": sale.email, "metadata": {}, "created": _unix(sale.at)},
        )
    ]
    subscription = _id("sub", sale.ref) if sale.period else None
    session = {
        "id": _id("cs", sale.ref),
        "object": "checkout.session",
        "mode": "subscription" if subscription else "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_subtotal": amount,
        "amount_total": amount,
        "currency": sale.currency.lower(),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "client_reference_id": sale.visitor_ref or None,
        "metadata": metadata,
        "customer": customer,
        "customer_details": {"email": sale.email, "name": None},
        "subscription": subscription,
        "invoice": _id("in", sale.ref, "0") if subscription else None,
        "payment_intent": None if subscription else _id("pi", sale.ref),
        "created": _unix(sale.at),
    }
    sent.append(_delivery("checkout.session.completed", sale.at, session))
    invoices = []
    if subscription:
        starts = sale.renewals[-1] if sale.renewals else sale.at
        interval = "month" if sale.period.days < 60 else "year"
        price = {"unit_amount": amount, "currency": sale.currency.lower(), "recurring": {"interval": interval}}
        item = {
            "current_period_start": _unix(starts),
            "current_period_end": _unix(starts + sale.period),
            "price": price,
        }
        data = {
            "id": subscription,
            "object": "subscription",
            "status": "active",
            "customer": customer,
            "currency": sale.currency.lower(),
            "metadata": {},
            "items": {"object": "list", "data": [{"id": _id("si", sale.ref), "quantity": 1, **item}]},
            "created": _unix(sale.at),
            "start_date": _unix(sale.at),
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
        }
        sent.append(_delivery("customer.subscription.created", sale.at, data))
        for n, at in enumerate((sale.at, *sale.renewals)):
            invoices.append(_invoice(sale, at=at, subscription=subscription, n=n))
            sent.append(_delivery("invoice.paid", at, invoices[-1], renewal=n > 0))
    if sale.refund:
        payment = _id("pi", sale.ref)
        refund = {
            "id": _id("re", sale.ref),
            "object": "refund",
            "amount": _units(sale.refund.amount_minor, sale.currency),
            "currency": sale.currency.lower(),
            "charge": _id("ch", sale.ref),
            "payment_intent": payment,
            "reason": "requested_by_customer",
            "status": "succeeded",
            "metadata": {},
            "created": _unix(sale.refund.at),
        }
        # The refund names its payment only: Stripe's API says which invoice or session it paid.
        paid = [
            {"invoice": invoice, "payment": {"type": "payment_intent", "payment_intent": payment}}
            for invoice in invoices[:1]
        ]
        api = {
            "invoice_payments": {"object": "list", "data": paid, "has_more": False},
            "checkout/sessions": {"object": "list", "data": [] if invoices else [session], "has_more": False},
        }
        sent.append(_delivery("refund.created", sale.refund.at, refund, api=api))
    return sent
