"""Stripe events and objects → normalized changes. Pure functions, shared by webhooks and the reconcile poll.

Field facts (the billing processors' reference notes §1, API 2026-06-24.dahlia): amounts are integers in
Stripe's unit of the currency, currencies lower case, times Unix seconds. Revenue is keyed on the invoice
(`in_…`) for everything Stripe invoices, subscriptions included, and on the payment intent (`pi_…`) for a
one-time Checkout payment without an invoice: a subscription's first payment, which both its Checkout Session
and its `invoice.paid` report, is counted once, on the invoice. A subscription-mode session brings no order:
it binds its visitor id to the subscription, whose invoices (renewals included) follow it.

An order's discounts: a Checkout Session lists its coupons and promotion codes (`discounts[]`, by id); an
invoice lists Discount objects, by id (`di_…`, the one application of a coupon, which no partner can own)
unless expanded, and each names its promotion code (whose `code` the customer typed, once expanded) and its
coupon (`source.coupon`): the adapter expands them wherever it reads an invoice.

Stripe objects have no "modified at": an order's state time is its latest status transition, a
subscription's its latest own timestamp (webhook and poll read the same object the same way). Refunds,
disputes and customers change with no timestamp at all: theirs is the event's, or the moment the API was
read (`at`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from integrations.processors.errors import PayloadInvalid
from integrations.processors.parsing import VISITOR_KEY, codes
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
from trackrev.common.money import currency_exponent

PROCESSOR = "stripe"
API_VERSION = "2026-06-24.dahlia"  # the shapes read here; polling pins it, the setup asks for it on the endpoint

SESSION_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
INVOICE_EVENTS = frozenset({"invoice.paid"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
DISPUTE_EVENTS = frozenset({"charge.dispute.created", "charge.dispute.closed"})
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})
EVENTS = SESSION_EVENTS | INVOICE_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS | SUBSCRIPTION_EVENTS | CUSTOMER_EVENTS

# Stripe's own statuses are ours (integrations/models/ledger.py SubscriptionStatus).
SUBSCRIPTION_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "paused", "canceled", "unpaid"}
)
INVOICE_STATUSES = {"draft": "draft", "open": "pending", "paid": "paid", "void": "void", "uncollectible": "void"}
REFUND_STATUSES = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}
# A lost dispute takes the money back like a refund; a won or prevented one gives it back.
DISPUTE_STATUSES = {"lost": "succeeded", "won": "canceled", "warning_closed": "canceled", "prevented": "canceled"}

# Stripe's unit of a currency where it differs from ISO 4217's minor unit (https://docs.stripe.com/currencies):
# zero-decimal currencies count whole units, ISK counts hundredths though ISO has none.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: str) -> int:
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if currency in STRIPE_THREE_DECIMAL else 2


def to_minor(amount: int, currency: str) -> int:
    """A Stripe amount in ISO 4217 minor units (ISK 10000 → 100; MGA 5000 → 500000; JPY and USD as they are)."""
    shift = currency_exponent(currency) - stripe_exponent(currency)
    return int(Decimal(amount).scaleb(shift).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def timestamp(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadInvalid(f"not a Unix timestamp: {value!r}")
    return datetime.fromtimestamp(value, tz=UTC)


def _latest(*values) -> datetime:
    stamps = [stamp for stamp in map(timestamp, values) if stamp is not None]
    if not stamps:
        raise PayloadInvalid("object has no timestamp")
    return max(stamps)


def _visitor_ref(*sources) -> str:
    """The first visitor id among metadata dicts and bare ids (`client_reference_id`)."""
    for source in sources:
        value = source.get(VISITOR_KEY) if isinstance(source, dict) else source
        if isinstance(value, str) and value:
            return value[:64]
    return ""


def _id(value) -> str:
    """An expandable field's id, whether Stripe sent the id or the object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else ""


def _discount_codes(discounts) -> tuple[str, ...]:
    """Of each discount (a Discount object, or a session's `{coupon, promotion_code}`): its promotion code's
    `code` where expanded and id, and its coupon's id. A bare Discount id names neither."""
    found = []
    for discount in discounts:
        if not isinstance(discount, dict):
            continue
        promotion = discount.get("promotion_code")
        coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
        found += [promotion.get("code") if isinstance(promotion, dict) else None, _id(promotion), _id(coupon)]
    return codes(*found)


def _customer(data: dict, email: str, stamp: datetime) -> NormalizedCustomer | None:
    customer = _id(data.get("customer"))
    if not customer:
        return None
    return NormalizedCustomer(external_id=customer, email=email or "", visitor_ref="", source_updated_at=stamp)


def _currency(data: dict) -> str:
    return str(data["currency"]).upper()


# --- orders -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRef:
    """What a refund or dispute needs of the order it takes money from: its key, and its totals with and
    without tax (Stripe units) to take the tax out of the amount returned."""

    external_id: str
    gross: int
    net: int


def _subscription_details(invoice: dict) -> dict:
    parent = invoice.get("parent") or {}
    return parent.get("subscription_details") or {}


def invoice_ref(invoice: dict) -> OrderRef:
    net = invoice.get("total_excluding_tax")
    return OrderRef(
        external_id=str(invoice["id"]), gross=int(invoice["total"]), net=int(invoice["total"] if net is None else net)
    )


def invoice_from(data: dict) -> Change:
    """An invoice: a one-time sale, or a subscription's first payment, renewal or upgrade proration."""
    status = data.get("status")
    if status not in INVOICE_STATUSES or data.get("billing_reason") == "upcoming":
        return Ignored(f"invoice {data.get('id')!r} is no sale ({status!r}, {data.get('billing_reason')!r})")
    try:
        if int(data["total"]) == 0:
            return Ignored(f"invoice {data['id']} is for nothing (a trial, a free plan)")
        details = _subscription_details(data)
        subscription = _id(details.get("subscription"))
        ref = invoice_ref(data)
        transitions = data.get("status_transitions") or {}
        stamp = _latest(data["created"], *transitions.values())
        currency = _currency(data)
        if not subscription:
            kind = "one_time"
        else:
            kind = "subscription_create" if data.get("billing_reason") == "subscription_create" else "renewal"
        order = NormalizedOrder(
            external_id=ref.external_id,
            status=INVOICE_STATUSES[status],
            kind=kind,
            currency=currency,
            amount_minor=to_minor(ref.net, currency),
            tax_minor=to_minor(ref.gross - ref.net, currency),
            refunded_minor=0,  # the refund rows say it
            placed_at=timestamp(data["created"]),
            paid_at=timestamp(transitions.get("paid_at")),
            visitor_ref=_visitor_ref(data.get("metadata"), details.get("metadata")),
            customer=_customer(data, data.get("customer_email"), stamp),
            subscription_external_id=subscription,
            source_updated_at=stamp,
            discount_codes=_discount_codes(data.get("discounts") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe invoice: {exc!r}") from exc
    return OrderChange(order)


def unexpanded_invoice(payload) -> str:
    """The invoice of an invoice event whose discounts are ids only (an event's object is never expanded),
    for the adapter to read them expanded; "" for any other event."""
    data = payload.get("data") if isinstance(payload, dict) else None
    invoice = data.get("object") if isinstance(data, dict) else None
    if payload.get("type") not in INVOICE_EVENTS or not isinstance(invoice, dict):
        return ""
    unexpanded = any(isinstance(discount, str) for discount in invoice.get("discounts") or ())
    return _id(invoice) if unexpanded else ""


def session_ref(session: dict) -> OrderRef | None:
    """A one-time payment session's order: on its invoice when Checkout made one, else its payment intent."""
    key = _id(session.get("invoice")) or _id(session.get("payment_intent"))
    if not key:
        return None
    gross = int(session["amount_total"])
    tax = int((session.get("total_details") or {}).get("amount_tax") or 0)
    return OrderRef(external_id=key, gross=gross, net=gross - tax)


def session_from(data: dict) -> Change:
    """A completed Checkout Session: a one-time sale (`mode=payment`, once paid), or, for `mode=subscription`,
    its visitor id bound to the subscription as its earliest state (it never overrides a later one)."""
    try:
        mode, created = data.get("mode"), timestamp(data["created"])
        visitor = _visitor_ref(data.get("metadata"), data.get("client_reference_id"))
        email = (data.get("customer_details") or {}).get("email") or data.get("customer_email")
        customer = _customer(data, email, created)
        if mode == "subscription" and _id(data.get("subscription")):
            subscription = NormalizedSubscription(
                external_id=_id(data["subscription"]),
                status="incomplete",
                customer=customer,
                current_period_end=None,
                cancel_at_period_end=False,
                canceled_at=None,
                ended_at=None,
                started_at=None,
                visitor_ref=visitor,
                source_updated_at=created,
            )
            return SubscriptionChange(subscription)
        if mode != "payment":
            return Ignored(f"checkout session in mode {mode!r} sells nothing")
        if data.get("payment_status") != "paid":
            return Ignored(f"checkout session {data['id']} is {data.get('payment_status')!r}, not paid yet")
        ref = session_ref(data)
        if ref is None or ref.gross == 0:
            return Ignored(f"checkout session {data['id']} took no payment")
        currency = _currency(data)
        breakdown = (data.get("total_details") or {}).get("breakdown") or {}  # present when expanded
        discounts = [*(data.get("discounts") or ()), *(d.get("discount") for d in breakdown.get("discounts") or ())]
        order = NormalizedOrder(
            external_id=ref.external_id,
            status="paid",
            kind="one_time",
            currency=currency,
            amount_minor=to_minor(ref.net, currency),
            tax_minor=to_minor(ref.gross - ref.net, currency),
            refunded_minor=0,
            placed_at=created,
            paid_at=created,  # a session has no completion time
            visitor_ref=visitor,
            customer=customer,
            subscription_external_id="",
            source_updated_at=created,
            discount_codes=_discount_codes(discounts),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe checkout session: {exc!r}") from exc
    return OrderChange(order)


# --- subscriptions and customers ----------------------------------------------------------------------


def subscription_from(data: dict) -> Change:
    status = data.get("status")
    if status not in SUBSCRIPTION_STATUSES:
        return Ignored(f"unknown subscription status {status!r}")
    try:
        items = (data.get("items") or {}).get("data") or []
        period_starts = [item.get("current_period_start") for item in items]
        period_ends = [timestamp(item.get("current_period_end")) for item in items]
        stamp = _latest(
            data["created"], data.get("start_date"), data.get("canceled_at"), data.get("ended_at"), *period_starts
        )
        subscription = NormalizedSubscription(
            external_id=str(data["id"]),
            status=status,
            customer=_customer(data, "", stamp),
            current_period_end=max(filter(None, period_ends), default=None),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            canceled_at=timestamp(data.get("canceled_at")),
            ended_at=timestamp(data.get("ended_at")),
            started_at=timestamp(data.get("start_date")),
            visitor_ref=_visitor_ref(data.get("metadata")),
            source_updated_at=stamp,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe subscription: {exc!r}") from exc
    return SubscriptionChange(subscription)


def customer_from(data: dict, at: datetime) -> Change:
    try:
        customer = NormalizedCustomer(
            external_id=str(data["id"]),
            email=data.get("email") or "",
            visitor_ref=_visitor_ref(data.get("metadata")),
            source_updated_at=at,
        )
    except (KeyError, TypeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe customer: {exc!r}") from exc
    return CustomerChange(customer)


# --- refunds and disputes -----------------------------------------------------------------------------

# (payment intent id, charge id) → the order the money was paid for: found through the API (the adapter).
OrderResolver = Callable[[str, str], OrderRef]


def net_of_tax(amount: int, order: OrderRef) -> int:
    """A refunded amount (tax included, as Stripe refunds) without the tax, in the order's proportion: Stripe
    refunds a payment's total, not its lines, so its tax comes back pro rata."""
    if order.gross <= 0 or order.net == order.gross:
        return amount
    return int((Decimal(amount) * order.net / order.gross).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _money_back(data: dict, status: str, resolve: OrderResolver, at: datetime) -> RefundChange:
    order = resolve(_id(data.get("payment_intent")), _id(data.get("charge")))
    currency = _currency(data)
    refund = NormalizedRefund(
        external_id=str(data["id"]),
        order_external_id=order.external_id,
        status=status,
        amount_minor=to_minor(net_of_tax(int(data["amount"]), order), currency),
        currency=currency,
        refunded_at=timestamp(data["created"]),
        source_updated_at=at,
    )
    return RefundChange(refund)


def refund_from(data: dict, resolve: OrderResolver, at: datetime) -> Change:
    status = REFUND_STATUSES.get(data.get("status"))
    if status is None:
        return Ignored(f"unknown refund status {data.get('status')!r}")
    try:
        return _money_back(data, status, resolve, at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe refund: {exc!r}") from exc


def dispute_from(data: dict, resolve: OrderResolver, at: datetime) -> Change:
    """A dispute as a refund that only a loss makes final (until then it is pending)."""
    try:
        return _money_back(data, DISPUTE_STATUSES.get(data.get("status"), "pending"), resolve, at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadInvalid(f"unreadable Stripe dispute: {exc!r}") from exc


# --- events -------------------------------------------------------------------------------------------


def object_change(event_type: str, data: dict, resolve: OrderResolver, at: datetime) -> Change:
    """One event's object → its change; `at`: when the object was in this state (the event's time)."""
    if event_type in SESSION_EVENTS:
        return session_from(data)
    if event_type in INVOICE_EVENTS:
        return invoice_from(data)
    if event_type in SUBSCRIPTION_EVENTS:
        return subscription_from(data)
    if event_type in REFUND_EVENTS:
        return refund_from(data, resolve, at)
    if event_type in DISPUTE_EVENTS:
        return dispute_from(data, resolve, at)
    if event_type in CUSTOMER_EVENTS:
        return customer_from(data, at)
    return Ignored(f"event type {event_type!r} is not used")


def event_from(payload: dict, resolve: OrderResolver) -> ParsedEvent:
    """An Event `{"id", "type", "created", "data": {"object"}}` → its changes."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise PayloadInvalid("not a Stripe event")
    event_type = str(payload.get("type") or "")
    occurred_at = timestamp(payload.get("created"))
    if occurred_at is None:
        raise PayloadInvalid("Stripe event without its created time")
    change = object_change(event_type, data["object"], resolve, occurred_at)
    return ParsedEvent(processor=PROCESSOR, event_type=event_type, occurred_at=occurred_at, changes=(change,))
