"""The demo workspace's month (settings.DEMO_SEEDERS): visitors from Newsletter (one of them through
a channel rule), Facebook, YouTube, Google, ChatGPT, an affiliate partner and Direct; one-time and
subscription sales with renewals and refunds, some in EUR and GBP, on the processors that can be
connected (those with an adapter: a demo never shows sales a real account could not have). Everything
goes through the same services as real traffic: the pixel's `touches_record`/`identity_bind`, the
webhook deliveries each processor's package renders for a sale, mapped by its real parser into the
ledger, whose notifications credit the orders (delivered by `demo_seed`); then the connections' webhook
and sync history. Seeded randomness, so every `make run` shows the same shop."""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from attribution.services.channels import channel_rule_create
from attribution.services.pixel import LandingHit, identity_bind, touches_record
from attribution.services.visitors import visitor_sets_sync
from integrations.demo import demo_connections, demo_history, demo_sale_deliver
from integrations.processors.demo import DemoRefund, DemoSale
from trackrev.workspaces.models import UsageDay, UsageMonth, Workspace
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
    """The pixel's monthly and daily counts of these hits, as its periodic flush would have stored them."""
    months: dict = {}
    days: Counter = Counter()
    for hit in hits:
        count, last = months.get(month_start(hit.occurred_at), (0, hit.occurred_at))
        months[month_start(hit.occurred_at)] = (count + 1, max(last, hit.occurred_at))
        days[hit.occurred_at.astimezone(UTC).date()] += 1
    UsageMonth.objects.bulk_create(
        UsageMonth(workspace=workspace, month=month, events=count, last_event_at=last)
        for month, (count, last) in months.items()
    )
    UsageDay.objects.bulk_create(UsageDay(workspace=workspace, day=day, events=n) for day, n in days.items())


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


PERIODS = {"monthly": timedelta(days=30), "annual": timedelta(days=365)}
# (newest one-time sales of a processor first, share refunded in percent): a partial refund and two full ones.
REFUNDS = [(1, 50), (4, 100), (9, 100)]


def _demo_sales(sales: list[Sale], now: datetime) -> list[tuple[str, DemoSale]]:
    """Each sale as its processor's package renders it: a subscription with the renewal it has had, a
    refund of some one-time sales. Without a visitor id in the checkout, a sale is found by its email
    (identify() bound it) or not at all (an email no visitor gave)."""
    refunds = {}
    for processor in {sale.processor for sale in sales}:
        newest = sorted((s for s in sales if s.processor == processor and s.plan == "one_time"), key=lambda s: s.at)[
            ::-1
        ]
        for index, share in REFUNDS:
            if index < len(newest):
                sale = newest[index]
                at = sale.at + min(timedelta(days=2), (now - sale.at) / 2)
                refunds[id(sale)] = DemoRefund(amount_minor=sale.amount * share // 100, at=at)
    rendered = []
    for n, sale in enumerate(sales):
        period = PERIODS.get(sale.plan)
        renewal = sale.at + period if period else None
        rendered.append(
            (
                sale.processor,
                DemoSale(
                    ref=f"{n}",
                    currency=sale.currency,
                    amount_minor=sale.amount,
                    at=sale.at,
                    email=sale.email if sale.match != "none" else f"guest{n}@customers.test",
                    visitor_ref=sale.visitor if sale.match == "metadata" else "",
                    period=period,
                    renewals=(renewal,) if renewal and renewal < now else (),
                    refund=refunds.get(id(sale)),
                ),
            )
        )
    return rendered


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
    received = {key: [] for key in connections}
    for processor, sale in _demo_sales(sales, now):
        demo_sale_deliver(connection=connections[processor], sale=sale, received=received[processor])
    for key, connection in connections.items():
        demo_history(connection=connection, now=now, received=received[key])
    visitor_sets_sync(workspace=workspace)  # the periodic fold, twice: see attribution/services/visitors.py
    visitor_sets_sync(workspace=workspace)
