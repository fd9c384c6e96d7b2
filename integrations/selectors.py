"""Reads for the API, the pages and the commands. Every list is scoped to one workspace."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    Delivery,
    Order,
    ProcessorConnection,
    Subscription,
    SyncRun,
    SyncRunKind,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventStatus,
)
from integrations.services.ledger import subscription_visitors
from trackrev.common.days import day_start
from trackrev.workspaces.models import Workspace


def connection_list(*, workspace: Workspace) -> QuerySet[ProcessorConnection]:
    return ProcessorConnection.objects.filter(workspace=workspace).select_related("workspace")


def connection_get(*, workspace: Workspace, connection_id: int) -> ProcessorConnection | None:
    return connection_list(workspace=workspace).filter(pk=connection_id).first()


def connection_webhook_url(*, connection: ProcessorConnection) -> str:
    path = reverse(
        "webhook_receive", kwargs={"processor": connection.processor, "workspace": connection.workspace.public_id}
    )
    return settings.TRACKREV_PUBLIC_URL + path


@dataclass(frozen=True)
class ConnectionHealth:
    last_webhook_at: dt.datetime | None
    failed_deliveries: int
    failed_deliveries_24h: int
    last_sync: SyncRun | None
    last_backfill: SyncRun | None

    @property
    def last_sync_at(self) -> dt.datetime | None:
        return self.last_sync.finished_at if self.last_sync else None


def connection_health(*, connection: ProcessorConnection) -> ConnectionHealth:
    events = WebhookEvent.objects.filter(connection=connection)
    failed = events.filter(status=WebhookEventStatus.FAILED)
    runs = SyncRun.objects.filter(connection=connection).order_by("-queued_at", "-id")
    return ConnectionHealth(
        last_webhook_at=events.order_by("-received_at").values_list("received_at", flat=True).first(),
        failed_deliveries=failed.count(),
        failed_deliveries_24h=failed.filter(received_at__gte=timezone.now() - dt.timedelta(days=1)).count(),
        last_sync=runs.first(),
        last_backfill=runs.filter(kind=SyncRunKind.BACKFILL).first(),
    )


def webhook_endpoint_list(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=workspace)


def webhook_endpoint_get(*, workspace: Workspace, public_id: str) -> WebhookEndpoint | None:
    return webhook_endpoint_list(workspace=workspace).filter(public_id=public_id).first()


def delivery_list(*, workspace: Workspace) -> QuerySet[Delivery]:
    """The deliveries of the workspace's endpoints, newest first, each with its attempts."""
    return (
        Delivery.objects.filter(endpoint__workspace=workspace)
        .select_related("event", "endpoint")
        .prefetch_related("attempt_rows")
        .order_by("-created_at", "-pk")
    )


def delivery_get(*, workspace: Workspace, delivery_id: int) -> Delivery | None:
    return Delivery.objects.filter(endpoint__workspace=workspace, pk=delivery_id).first()


def order_list(
    *,
    workspace: Workspace,
    processor: str = "",
    status: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> QuerySet[Order]:
    """Newest first; `start` and `end` are days of the workspace's time zone, as in the reports."""
    orders = Order.objects.filter(workspace=workspace)
    if processor:
        orders = orders.filter(processor=processor)
    if status:
        orders = orders.filter(status=status)
    if start:
        orders = orders.filter(placed_at__gte=day_start(start, workspace.timezone))
    if end:
        orders = orders.filter(placed_at__lt=day_start(end + dt.timedelta(days=1), workspace.timezone))
    return orders.order_by("-placed_at", "-id")


def subscription_visitors_of(*, subscriptions: Iterable[Subscription]) -> dict[int, str]:
    """Subscription id → the visitor bound to it as the ledger matches its orders: through its earliest
    order that names one, its own metadata or its customer's."""
    subscriptions = list(subscriptions)
    visitors = subscription_visitors(keys=[(s.connection_id, s.external_id) for s in subscriptions])
    return {s.pk: visitors[(s.connection_id, s.external_id)] for s in subscriptions}


def subscription_list(*, workspace: Workspace, processor: str = "", status: str = "") -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.filter(workspace=workspace)
    if processor:
        subscriptions = subscriptions.filter(processor=processor)
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("-source_updated_at", "-id")
