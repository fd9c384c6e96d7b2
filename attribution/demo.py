"""The demo workspace's month (settings.DEMO_SEEDERS): visitors from Newsletter (one of them through
a channel rule), Facebook, YouTube, Google, ChatGPT, an affiliate partner and Direct; one-time and
subscription sales with renewals and refunds, some in EUR and GBP, on the processors that can be
connected (those with an adapter: a demo never shows sales a real account could not have). Everything
goes through the same services as real traffic: the pixel's `touches_record`/`identity_bind`, the
ledger's upserts, whose notifications credit the orders (delivered by `demo_seed`); then the
connections' webhook and sync history. Seeded randomness, so every `make run` shows the same shop."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from attribution.services.channels import channel_rule_create
from attribution.services.pixel import LandingHit, identity_bind, touches_record
from attribution.services.visitors import visitor_sets_sync
from integrations.demo import demo_connections, demo_history
from integrations.models import FirstSeenVia, Order, ProcessorConnection
from integrations.processors.types import NormalizedCustomer, NormalizedOrder, NormalizedRefund, NormalizedSubscription
from integrations.services.ledger import order_upsert, refund_upsert, subscription_upsert
from trackrev.workspaces.models import UsageMonth, Workspace
from trackrev.workspaces.usage import month_start

SITE = "https://demo-saas.test"
# (weight, landing URL, referrer): where demo visitors come from.
SOURCES = [
    (14, f"{SITE}/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly-digest", ""),
    (4, f"{SITE}/?utm_source=beehiiv&utm_medium=referral&utm_campaign=weekly-digest", ""),  # the channel rule's
    (6, f"{SITE}/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday", ""),
    (10, f"{SITE}/", "https://www.facebook.com/"),
    (6, f"{SITE}/?utm_source=facebook&utm_medium=paid_social&utm_campaign=retargeting&fbclid=demo", ""),
    (12, f"{SITE}/blog/launch", "https://www.youtube.com/"),
    (14, f"{SITE}/", "https://www.google.com/"),
    (5, f"{SITE}/pricing?gclid=demo-click&utm_campaign=brand", "https://www.google.com/"),
    (4, f"{SITE}/", "https://chatgpt.com/"),
    (6, f"{SITE}/?via=alice&utm_source=alice&utm_medium=affiliate&utm_campaign=partner", ""),
    (19, f"{SITE}/", ""),
]
CURRENCIES = [("USD", 70), ("GBP", 15), ("EUR", 15)]
PLANS = [("one_time", 4900, 5), ("one_time", 9900, 2), ("monthly", 2900, 4), ("annual", 29000, 1)]


@dataclass
class Sale:
    processor: str
    currency: str
    plan: str
    amount: int
    at: datetime
    visitor: str
    email: str
    match: str  # "metadata" | "email" | "none"


def _journeys(rng: random.Random, now: datetime, visitors: int) -> tuple[list[LandingHit], list[tuple[str, datetime]]]:
    """Touches for `visitors` people over the last 60 days; returns the hits and (visitor, last touch)."""
    hits, people = [], []
    weights = [w for w, _, _ in SOURCES]
    for n in range(visitors):
        visitor = f"demo{n:05d}"
        at = now - timedelta(days=rng.uniform(0.1, 60))
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
            _, url, referrer = rng.choices(SOURCES, weights)[0]
            hits.append(LandingHit(visitor_id=visitor, url=url, referrer=referrer, occurred_at=at))
            at = min(now - timedelta(minutes=5), at + timedelta(hours=rng.uniform(2, 96)))
        people.append((visitor, at))
    return hits, people


def _usage(workspace: Workspace, hits: list[LandingHit]) -> None:
    """The pixel's monthly counts of these hits, as its periodic flush would have stored them."""
    months: dict = {}
    for hit in hits:
        count, last = months.get(month_start(hit.occurred_at), (0, hit.occurred_at))
        months[month_start(hit.occurred_at)] = (count + 1, max(last, hit.occurred_at))
    UsageMonth.objects.bulk_create(
        UsageMonth(workspace=workspace, month=month, events=count, last_event_at=last)
        for month, (count, last) in months.items()
    )


def _sales(rng: random.Random, people: list[tuple[str, datetime]], now: datetime, processors: list[str]) -> list[Sale]:
    sales = []
    for visitor, last in people:
        if rng.random() > 0.16:
            continue
        processor = rng.choice(processors)
        currency = rng.choices(CURRENCIES, [w for _, w in CURRENCIES])[0][0]
        plan, amount, _ = rng.choices(PLANS, [w for _, _, w in PLANS])[0]
        at = last + timedelta(minutes=rng.uniform(3, 600))
        if at >= now:  # would buy in the future: not yet
            continue
        match = rng.choices(["metadata", "email", "none"], [75, 15, 10])[0]
        sales.append(Sale(processor, currency, plan, amount, at, visitor, f"{visitor}@customers.test", match))
    return sales


def _order(sale: Sale, *, external_id: str, kind: str, at: datetime, subscription: str = "") -> NormalizedOrder:
    customer = NormalizedCustomer(
        external_id=f"cus_{sale.visitor}", email=sale.email, visitor_ref="", source_updated_at=at
    )
    return NormalizedOrder(
        external_id=external_id,
        status="paid",
        kind=kind,
        currency=sale.currency,
        amount_minor=sale.amount,
        tax_minor=0,
        refunded_minor=0,
        placed_at=at,
        paid_at=at,
        visitor_ref=sale.visitor if sale.match == "metadata" and kind != "renewal" else "",
        customer=customer if sale.match != "none" else None,
        subscription_external_id=subscription,
        source_updated_at=at,
    )


def seed_demo_month(*, workspace: Workspace) -> None:
    rng = random.Random(2026)  # demo data, not secrets
    now = timezone.now()
    channel_rule_create(
        workspace=workspace,
        field="source",
        operator="equals",
        value="beehiiv",
        channel="Newsletter",
        channel_group="Email",
    )
    hits, people = _journeys(rng, now, visitors=900)
    touches_record(workspace=workspace, hits=hits)
    _usage(workspace, hits)
    connections = demo_connections(workspace=workspace, now=now)
    sales = _sales(rng, people, now, sorted(connections))
    for sale in sales:
        if sale.match == "email":  # identify() on the signup form
            identity_bind(workspace_id=workspace.pk, visitor_id=sale.visitor, email=sale.email, now=sale.at)
    for n, sale in enumerate(sales):
        connection = connections[sale.processor]
        # Sales from before the connection was made came in with its backfill, later ones by webhook.
        via = FirstSeenVia.POLL if sale.at < connection.created_at else FirstSeenVia.WEBHOOK
        if sale.plan == "one_time":
            order_upsert(
                connection=connection,
                order=_order(sale, external_id=f"demo_ord_{n}", kind="one_time", at=sale.at),
                via=via,
            )
            continue
        sub_id = f"demo_sub_{n}"
        period = timedelta(days=30 if sale.plan == "monthly" else 365)
        renewed = sale.at + period < now
        subscription_upsert(
            connection=connection,
            subscription=NormalizedSubscription(
                external_id=sub_id,
                status="active",
                customer=None,
                current_period_end=sale.at + period * (2 if renewed else 1),
                cancel_at_period_end=False,
                canceled_at=None,
                ended_at=None,
                started_at=sale.at,
                visitor_ref=sale.visitor if sale.match == "metadata" else "",
                source_updated_at=sale.at,
            ),
        )
        order_upsert(
            connection=connection,
            order=_order(
                sale, external_id=f"demo_ord_{n}", kind="subscription_create", at=sale.at, subscription=sub_id
            ),
            via=via,
        )
        if renewed:
            order_upsert(
                connection=connection,
                order=_order(
                    sale, external_id=f"demo_ord_{n}_r1", kind="renewal", at=sale.at + period, subscription=sub_id
                ),
                via=FirstSeenVia.POLL,
            )
    for connection in connections.values():
        _refunds(connection, now)
        demo_history(connection=connection, now=now)
    visitor_sets_sync(workspace=workspace)  # the periodic fold, twice: see attribution/services/visitors.py
    visitor_sets_sync(workspace=workspace)


# (newest one-time sales first, share refunded in percent): a partial refund and two full ones.
REFUNDS = [(1, 50), (4, 100), (9, 100)]


def _refunds(connection: ProcessorConnection, now: datetime) -> None:
    sales = list(Order.objects.filter(connection=connection, kind="one_time").order_by("-placed_at")[:10])
    for index, share in REFUNDS:
        if index >= len(sales):
            continue
        order = sales[index]
        refunded_at = order.placed_at + min(timedelta(days=2), (now - order.placed_at) / 2)
        refund_upsert(
            connection=connection,
            refund=NormalizedRefund(
                external_id=f"demo_re_{order.external_id}",
                order_external_id=order.external_id,
                status="succeeded",
                amount_minor=order.amount_minor * share // 100,
                currency=order.currency,
                refunded_at=refunded_at,
                source_updated_at=refunded_at,
            ),
        )
