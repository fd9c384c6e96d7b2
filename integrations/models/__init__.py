"""Integration models: connections and the webhook inbox, the normalized ledger, FX rates, sync runs."""

from integrations.models.connections import (
    ConnectionStatus,
    ProcessorConnection,
    SyncRun,
    SyncRunKind,
    SyncRunStatus,
)
from integrations.models.fx import ExchangeRate
from integrations.models.ledger import (
    Customer,
    FirstSeenVia,
    MatchedBy,
    Order,
    OrderKind,
    OrderStatus,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
)
from integrations.models.webhooks import WebhookEvent, WebhookEventStatus

__all__ = [
    "ConnectionStatus",
    "Customer",
    "ExchangeRate",
    "FirstSeenVia",
    "MatchedBy",
    "Order",
    "OrderKind",
    "OrderStatus",
    "ProcessorConnection",
    "Refund",
    "RefundStatus",
    "Subscription",
    "SubscriptionStatus",
    "SyncRun",
    "SyncRunKind",
    "SyncRunStatus",
    "WebhookEvent",
    "WebhookEventStatus",
]
