"""Integration models: connections and the webhook inbox, the normalized ledger, FX rates, sync runs,
outbound webhooks."""

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
from integrations.models.outbound import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EndpointStatus,
    EventType,
    OutboundEvent,
    WebhookEndpoint,
)
from integrations.models.webhooks import WebhookEvent, WebhookEventStatus

__all__ = [
    "ConnectionStatus",
    "Customer",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "EndpointStatus",
    "EventType",
    "ExchangeRate",
    "FirstSeenVia",
    "MatchedBy",
    "Order",
    "OrderKind",
    "OrderStatus",
    "OutboundEvent",
    "ProcessorConnection",
    "Refund",
    "RefundStatus",
    "Subscription",
    "SubscriptionStatus",
    "SyncRun",
    "SyncRunKind",
    "SyncRunStatus",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventStatus",
]
