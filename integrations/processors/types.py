"""Normalized, processor-independent shapes produced by every adapter's mapping. No Django imports.

Money is integer minor units + ISO 4217 code (upper case). `source_updated_at` is the processor's
own timestamp of the state carried (modified, else created, else the event's timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NormalizedCustomer:
    external_id: str
    email: str
    visitor_ref: str  # our visitor id from the customer's metadata, "" when absent
    source_updated_at: datetime


@dataclass(frozen=True)
class NormalizedOrder:
    external_id: str
    status: str  # an OrderStatus value
    kind: str  # an OrderKind value
    currency: str
    amount_minor: int  # net revenue: after discounts, before tax
    tax_minor: int
    refunded_minor: int  # net refunded so far
    placed_at: datetime
    paid_at: datetime | None
    visitor_ref: str  # from the order's own (checkout) metadata, "" when absent
    customer: NormalizedCustomer | None
    subscription_external_id: str
    source_updated_at: datetime
    # What the order's discounts are known by, for partners who own one: the code the customer typed and the
    # processor's discount or promotion-code id, lower case, each once, in order (see parsing.codes).
    discount_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NormalizedSubscription:
    external_id: str
    status: str  # a SubscriptionStatus value
    customer: NormalizedCustomer | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    started_at: datetime | None
    visitor_ref: str
    source_updated_at: datetime
    # Where the processor's orders do not name their subscription, the subscription names its first order.
    first_order_external_id: str = ""


@dataclass(frozen=True)
class NormalizedRefund:
    external_id: str
    order_external_id: str
    status: str  # a RefundStatus value
    amount_minor: int  # net of tax
    currency: str
    refunded_at: datetime
    source_updated_at: datetime


@dataclass(frozen=True)
class OrderChange:
    order: NormalizedOrder


@dataclass(frozen=True)
class SubscriptionChange:
    subscription: NormalizedSubscription


@dataclass(frozen=True)
class RefundChange:
    refund: NormalizedRefund


@dataclass(frozen=True)
class CustomerChange:
    """A customer's own event: the email or visitor id that their orders match by, where the processor's
    orders and subscriptions lack them."""

    customer: NormalizedCustomer


@dataclass(frozen=True)
class Ignored:
    reason: str


@dataclass(frozen=True)
class Unreadable:
    """An object from a list endpoint that the mapping could not read (counted as a sync error)."""

    reason: str


Change = OrderChange | SubscriptionChange | RefundChange | CustomerChange | Ignored | Unreadable


@dataclass(frozen=True)
class ParsedEvent:
    processor: str
    event_type: str
    occurred_at: datetime | None
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class ChangesPage:
    """One page of the reconcile poll: changes plus where we are (`resource` page `page` of `pages`)."""

    resource: str
    page: int
    pages: int
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class ConnectionCredentials:
    api_token: str
    webhook_secret: str
    api_base_url: str
    options: dict
