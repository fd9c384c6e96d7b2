"""Property: whatever the data and the order in which the consumer saw it, rollup-served reports
equal a from-scratch computation over the raw tables, for every model and every filter."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.credit_models import MODELS
from attribution.selectors.reports import channel_report, revenue_daily
from attribution.services.conversions import conversion_record
from attribution.services.recompute import workspace_recompute_run, workspace_recompute_start
from attribution.services.visitors import visitor_sets_sync
from integrations.models import Subscription
from tests.attribution.reports_reference import reference_report
from tests.factories.engine import ConnectionFactory, IdentityFactory, OrderFactory, TouchFactory
from tests.factories.workspaces import WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BASE = datetime(2026, 10, 1, tzinfo=UTC)
PROCESSORS = ["polar", "stripe", "paddle", "lemonsqueezy"]
CHANNELS = [("Direct", "Direct"), ("Google", "Organic Search"), ("Newsletter", "Email"), ("Facebook", "Paid Social")]
VISITORS = ["v1", "v2", "v3", "v4", "v5"]
minutes = st.integers(min_value=0, max_value=50 * 24 * 60)

CAMPAIGNS = ["", "spring", "x"]
touch_st = st.tuples(st.sampled_from(VISITORS), minutes, st.sampled_from(CHANNELS), st.sampled_from(CAMPAIGNS))
order_st = st.fixed_dictionaries(
    {
        "visitor": st.sampled_from(["", *VISITORS]),
        "digest": st.sampled_from(["", "e1", "e2"]),
        "minute": minutes,
        "processor": st.sampled_from(PROCESSORS),
        "kind": st.sampled_from(["one_time", "subscription_create", "renewal"]),
        "subscription": st.sampled_from([None, "s1", "s2"]),
        "status": st.sampled_from(["paid", "paid", "pending", "partially_refunded", "refunded"]),
        "amount": st.integers(min_value=0, max_value=500_00),
        "refund_share": st.integers(min_value=0, max_value=100),
        "usd": st.booleans(),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    touches=st.lists(touch_st, max_size=14),
    identities=st.lists(
        st.tuples(st.sampled_from(VISITORS), st.sampled_from(["e1", "e2"]), st.sampled_from(["browser", "server"])),
        max_size=4,
        unique=True,
    ),
    orders=st.lists(order_st, min_size=1, max_size=8),
    lookback=st.sampled_from([7, 30, 90]),
    timezone=st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Tokyo"]),
    sync_visitors=st.booleans(),
    recompute=st.booleans(),
    replay=st.permutations(range(8)),
)
def test_rollup_reports_equal_a_from_scratch_computation(
    db, touches, identities, orders, lookback, timezone, sync_visitors, recompute, replay
):
    workspace = WorkspaceFactory(lookback_days=lookback, timezone=timezone)
    for visitor, minute, (channel, group), campaign in touches:
        TouchFactory(
            workspace=workspace,
            visitor_id=visitor,
            occurred_at=BASE + timedelta(minutes=minute),
            channel=channel,
            channel_group=group,
            campaign=campaign,
        )
    for visitor, digest, source in identities:
        IdentityFactory(workspace=workspace, visitor_id=visitor, email_digest=digest, source=source)
    if sync_visitors:
        visitor_sets_sync(workspace=workspace)
        visitor_sets_sync(workspace=workspace)
        TouchFactory(
            workspace=workspace, visitor_id="late", occurred_at=BASE, channel="Google", channel_group="Organic Search"
        )  # stays in the unfolded tail
    subscriptions = {}
    created = []
    for spec in orders:
        connection = ConnectionFactory(workspace=workspace, processor=spec["processor"])
        subscription = None
        if spec["subscription"]:
            key = (spec["processor"], spec["subscription"])
            subscription = subscriptions.get(key) or Subscription.objects.create(
                workspace=workspace,
                connection=connection,
                processor=spec["processor"],
                external_id=spec["subscription"],
                status="active",
                source_updated_at=BASE,
            )
            subscriptions[key] = subscription
        refunded = spec["amount"] * spec["refund_share"] // 100 if "refund" in spec["status"] else 0
        created.append(
            OrderFactory(
                workspace=workspace,
                connection=connection,
                processor=spec["processor"],
                visitor_id=spec["visitor"],
                customer_email_digest=spec["digest"],
                kind=spec["kind"],
                subscription=subscription,
                status=spec["status"],
                currency="USD" if spec["usd"] else "EUR",
                amount_minor=spec["amount"],
                amount_usd_minor=spec["amount"] if spec["usd"] else spec["amount"] * 108 // 100,
                refunded_minor=refunded,
                refunded_usd_minor=refunded if spec["usd"] else refunded * 108 // 100,
                placed_at=BASE + timedelta(minutes=spec["minute"]),
            )
        )
    # The consumer sees orders in any order, some twice.
    for index in [i for i in replay if i < len(created)] + [0]:
        conversion_record(order_id=created[index].pk)
    if recompute:
        workspace_recompute_run(run_id=workspace_recompute_start(workspace=workspace).pk)

    ranges = [(date(2026, 9, 25), date(2026, 11, 30)), (date(2026, 10, 5), date(2026, 10, 20))]
    for start, end in ranges:
        for model in MODELS:
            for processor in [None, *PROCESSORS]:
                for group_by in ("channel", "channel_group", "campaign"):
                    expected = reference_report(
                        workspace=workspace, start=start, end=end, model=model, processor=processor, group_by=group_by
                    )
                    report = channel_report(
                        workspace=workspace, start=start, end=end, model=model, processor=processor, group_by=group_by
                    )
                    got = {r.name: (r.visitors, r.conversions, r.revenue_usd_minor) for r in report.rows}
                    assert got == expected, (start, end, model, processor, group_by)
                days = revenue_daily(workspace=workspace, start=start, end=end, model=model, processor=processor)
                total = reference_report(workspace=workspace, start=start, end=end, model=model, processor=processor)
                assert sum(d.revenue_usd_minor for d in days) == sum(r for _, _, r in total.values())
                assert sum(d.orders for d in days) * 1_000_000 == sum(c for _, c, _ in total.values())
    # Day by day (the daily totals table), for every processor filter.
    start, end = ranges[1]
    for processor in [None, *PROCESSORS]:
        for day in revenue_daily(workspace=workspace, start=start, end=end, model="linear", processor=processor):
            expected = reference_report(
                workspace=workspace, start=day.date, end=day.date, model="linear", processor=processor
            )
            assert day.revenue_usd_minor == sum(r for _, _, r in expected.values()), (day, processor)
            assert day.orders * 1_000_000 == sum(c for _, c, _ in expected.values()), (day, processor)
