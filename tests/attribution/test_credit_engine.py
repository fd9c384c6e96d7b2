"""The engine on the database: journeys stitched by email, renewals, refunds, rollups by delta,
recomputes that keep serving the old numbers until the new ones are complete."""

from datetime import timedelta

import pytest
from django.db.models import Sum

from attribution.credit_models import MODELS
from attribution.models import AttributionState, Credit, DailyRollup, RecomputeRun
from attribution.services.conversions import conversion_record
from attribution.services.credits import order_credits_refresh
from attribution.services.recompute import workspace_recompute_run, workspace_recompute_start
from attribution.tasks import conversion_record as conversion_record_task
from integrations.models import Subscription
from tests.factories.engine import T0, ConnectionFactory, IdentityFactory, OrderFactory, TouchFactory
from trackrev.outbox.services import DELIVER_TASK

pytestmark = pytest.mark.django_db


def credits_of(order, model, version=None):
    rows = Credit.objects.filter(order=order, model=model)
    if version is not None:
        rows = rows.filter(version=version)
    return {c.channel: (c.weight, c.revenue_usd_minor) for c in rows}


def active_subscription(workspace) -> Subscription:
    return Subscription.objects.create(
        workspace=workspace,
        connection=ConnectionFactory(workspace=workspace),
        processor="polar",
        external_id="sub_1",
        status="active",
        source_updated_at=T0,
    )


def rollup_total(workspace, model, **filters):
    version = AttributionState.objects.get(workspace=workspace).version
    rows = DailyRollup.objects.filter(workspace=workspace, version=version, model=model, **filters)
    return rows.aggregate(r=Sum("revenue_usd_minor"), c=Sum("conversions"))


def test_five_touch_journey_is_stored_per_model_and_rolled_up(workspace):
    for days, channel in [(20, "Google"), (14, "Facebook"), (7, "Direct"), (3, "Newsletter"), (0, "Direct")]:
        TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=days), channel=channel)
    order = OrderFactory(workspace=workspace, visitor_id="vis", matched_by="metadata", amount_minor=10000)
    conversion_record(order_id=order.pk)
    assert credits_of(order, "last_touch") == {"Newsletter": (1_000_000, 10000)}
    assert credits_of(order, "position_based") == {
        "Google": (400_000, 4000),
        "Facebook": (66_667, 667),
        "Direct": (466_667, 4667),
        "Newsletter": (66_666, 666),
    }
    for model in MODELS:
        assert sum(w for w, _ in credits_of(order, model).values()) == 1_000_000
        assert rollup_total(workspace, model) == {"r": 10000, "c": 1_000_000}
    assert rollup_total(workspace, "linear", channel="Direct") == {"r": 4000, "c": 400_000}


def test_the_consumer_task_is_listed_and_recomputing_twice_changes_nothing(workspace, settings):
    assert "attribution.conversion_record" in settings.ORDER_CONSUMERS
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=1), channel="Google")
    order = OrderFactory(workspace=workspace, visitor_id="vis")
    conversion_record_task(order.pk)
    conversion_record_task(order.pk)
    assert Credit.objects.filter(order=order).count() == len(MODELS)
    assert rollup_total(workspace, "first_touch") == {"r": 4900, "c": 1_000_000}


def test_touches_outside_the_lookback_window_leave_the_order_unattributed(workspace):
    workspace.lookback_days = 7
    workspace.save()
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=8), channel="Google")
    order = OrderFactory(workspace=workspace, visitor_id="vis")
    conversion_record(order_id=order.pk)
    for model in MODELS:
        assert credits_of(order, model) == {"Unattributed": (1_000_000, 4900)}


def test_visitors_stitched_by_email_are_one_person(workspace):
    # The buyer first came from YouTube on their phone, then bought on their laptop after a Newsletter.
    TouchFactory(workspace=workspace, visitor_id="phone", occurred_at=T0 - timedelta(days=10), channel="YouTube")
    TouchFactory(workspace=workspace, visitor_id="laptop", occurred_at=T0 - timedelta(days=1), channel="Newsletter")
    IdentityFactory(workspace=workspace, visitor_id="phone", email_digest="d1", source="server")
    IdentityFactory(workspace=workspace, visitor_id="laptop", email_digest="d1", source="server")
    order = OrderFactory(workspace=workspace, visitor_id="laptop", matched_by="metadata")
    conversion_record(order_id=order.pk)
    assert credits_of(order, "first_touch") == {"YouTube": (1_000_000, 4900)}
    assert credits_of(order, "last_touch") == {"Newsletter": (1_000_000, 4900)}
    assert credits_of(order, "linear") == {"YouTube": (500_000, 2450), "Newsletter": (500_000, 2450)}


def test_email_fallback_matches_the_order_through_an_identity(workspace):
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=2), channel="Facebook")
    IdentityFactory(workspace=workspace, visitor_id="vis", email_digest="buyer-digest")
    order = OrderFactory(workspace=workspace, customer_email_digest="buyer-digest")
    conversion_record(order_id=order.pk)
    order.refresh_from_db()
    assert (order.visitor_id, order.matched_by) == ("vis", "email")
    assert credits_of(order, "last_touch") == {"Facebook": (1_000_000, 4900)}


def test_renewals_credit_exactly_what_the_first_order_credited(workspace):
    subscription = active_subscription(workspace)
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=3), channel="Newsletter")
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=1), channel="Google")
    first = OrderFactory(
        workspace=workspace, visitor_id="vis", kind="subscription_create", subscription=subscription, amount_minor=1000
    )
    # A year later the renewal's own window holds only a Facebook touch: it must not matter.
    renewed_at = T0 + timedelta(days=365)
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=renewed_at - timedelta(days=1), channel="Facebook")
    renewal = OrderFactory(
        workspace=workspace,
        visitor_id="vis",
        kind="renewal",
        subscription=subscription,
        amount_minor=12000,
        placed_at=renewed_at,
    )
    conversion_record(order_id=first.pk)
    conversion_record(order_id=renewal.pk)
    for model in MODELS:
        first_weights = {ch: w for ch, (w, _) in credits_of(first, model).items()}
        assert {ch: w for ch, (w, _) in credits_of(renewal, model).items()} == first_weights
    assert credits_of(renewal, "first_touch") == {"Newsletter": (1_000_000, 12000)}
    assert credits_of(renewal, "linear") == {"Newsletter": (500_000, 6000), "Google": (500_000, 6000)}


def test_a_partial_refund_lowers_revenue_on_the_order_date(workspace):
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=2), channel="Google")
    order = OrderFactory(workspace=workspace, visitor_id="vis", amount_minor=10000)
    conversion_record(order_id=order.pk)
    order.refunded_minor, order.refunded_usd_minor, order.status = 2500, 2500, "partially_refunded"
    order.save()
    conversion_record(order_id=order.pk)
    for model in MODELS:
        assert rollup_total(workspace, model) == {"r": 7500, "c": 1_000_000}
        assert rollup_total(workspace, model, day=T0.date()) == {"r": 7500, "c": 1_000_000}
    assert DailyRollup.objects.count() == len(MODELS)  # the refund did not create a row on another day


def test_unpaid_orders_earn_nothing_until_paid(workspace):
    order = OrderFactory(workspace=workspace, status="pending", paid_at=None)
    conversion_record(order_id=order.pk)
    assert not Credit.objects.exists()
    order.status = "paid"
    order.save()
    conversion_record(order_id=order.pk)
    assert rollup_total(workspace, "linear") == {"r": 4900, "c": 1_000_000}


def test_non_usd_orders_keep_native_revenue_and_count_usd_once_converted(workspace):
    order = OrderFactory(workspace=workspace, currency="EUR", amount_minor=4000, amount_usd_minor=None)
    conversion_record(order_id=order.pk)
    credit = Credit.objects.get(order=order, model="last_touch")
    assert (credit.revenue_usd_minor, credit.revenue_minor, credit.currency) == (0, 4000, "EUR")
    order.amount_usd_minor = 4320
    order.save()
    conversion_record(order_id=order.pk)
    assert rollup_total(workspace, "last_touch") == {"r": 4320, "c": 1_000_000}


def test_recompute_serves_the_old_numbers_until_the_new_ones_are_complete(workspace, broker, committed):
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=20), channel="Google")
    orders = [
        OrderFactory(workspace=workspace, visitor_id="vis", placed_at=T0 + timedelta(minutes=i)) for i in range(3)
    ]
    for order in orders:
        order_credits_refresh(order_id=order.pk)
    assert rollup_total(workspace, "last_touch", channel="Google")["r"] == 3 * 4900

    workspace.lookback_days = 7  # the Google touch falls out of the window
    workspace.save()
    with committed():
        run = workspace_recompute_start(workspace=workspace, reason="lookback 30 → 7")
    assert broker.names() == [DELIVER_TASK]  # the background task is handed over on commit
    assert (run.lookback_days, run.timezone) == (7, "UTC")
    # A sale arriving meanwhile lands in both versions, each computed with its own settings: the
    # served numbers stay those of a 30-day lookback until the switch.
    late = OrderFactory(workspace=workspace, visitor_id="vis", placed_at=T0 + timedelta(hours=1))
    order_credits_refresh(order_id=late.pk)
    assert rollup_total(workspace, "last_touch", channel="Google")["r"] == 4 * 4900
    assert credits_of(late, "last_touch", version=run.version) == {"Unattributed": (1_000_000, 4900)}

    run = workspace_recompute_run(run_id=run.pk)
    assert (run.status, run.done, run.total, run.percent) == ("succeeded", 4, 3, 100)
    state = AttributionState.objects.get(workspace=workspace)
    assert (state.version, state.lookback_days) == (run.version, 7)
    assert rollup_total(workspace, "last_touch", channel="Google")["r"] is None
    assert rollup_total(workspace, "last_touch", channel="Unattributed")["r"] == 4 * 4900
    assert not Credit.objects.filter(version__lt=run.version).exists()


def test_a_newer_recompute_supersedes_an_unfinished_one(workspace):
    OrderFactory(workspace=workspace)
    first = workspace_recompute_start(workspace=workspace)
    second = workspace_recompute_start(workspace=workspace)
    assert RecomputeRun.objects.get(pk=first.pk).status == "superseded"
    assert workspace_recompute_run(run_id=first.pk).status == "superseded"
    assert workspace_recompute_run(run_id=second.pk).status == "succeeded"
    assert AttributionState.objects.get(workspace=workspace).version == second.version


def test_changed_channel_rules_recompute_the_workspace(workspace, settings, committed, broker):
    from attribution.tasks import channel_rules_applied

    assert "attribution.channel_rules_applied" in settings.CHANNEL_RULES_CONSUMERS
    touch = TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=1), channel="Google")
    order = OrderFactory(workspace=workspace, visitor_id="vis")
    conversion_record(order_id=order.pk)
    touch.channel = "Google Ads"  # what the pixel's re-apply job does to history
    touch.save()
    with committed():
        channel_rules_applied(workspace.pk)
    run = RecomputeRun.objects.get(workspace=workspace)
    assert (run.status, run.reason, broker.names()) == ("queued", "Channel rules changed", [DELIVER_TASK])
    workspace_recompute_run(run_id=run.pk)
    assert credits_of(Credit.objects.get(model="last_touch").order, "last_touch") == {"Google Ads": (1_000_000, 4900)}


def test_an_identity_bound_after_the_purchase_matches_and_stitches(workspace):
    from attribution.services.conversions import identities_apply
    from attribution.tasks import identities_apply_all

    TouchFactory(workspace=workspace, visitor_id="phone", occurred_at=T0 - timedelta(days=5), channel="YouTube")
    TouchFactory(workspace=workspace, visitor_id="laptop", occurred_at=T0 - timedelta(days=1), channel="Google")
    unmatched = OrderFactory(workspace=workspace, customer_email_digest="d1")
    matched = OrderFactory(workspace=workspace, visitor_id="laptop", matched_by="metadata", external_id="m")
    conversion_record(order_id=unmatched.pk)
    conversion_record(order_id=matched.pk)
    assert credits_of(unmatched, "first_touch") == {"Unattributed": (1_000_000, 4900)}
    assert credits_of(matched, "first_touch") == {"Google": (1_000_000, 4900)}
    # The customer's backend binds both devices after the webhook arrived.
    IdentityFactory(workspace=workspace, visitor_id="phone", email_digest="d1", source="server")
    IdentityFactory(workspace=workspace, visitor_id="laptop", email_digest="d1", source="server")
    assert identities_apply(workspace=workspace) == 2
    unmatched.refresh_from_db()
    assert (unmatched.visitor_id, unmatched.matched_by) in {("phone", "email"), ("laptop", "email")}
    assert credits_of(unmatched, "first_touch") == {"YouTube": (1_000_000, 4900)}
    assert credits_of(matched, "first_touch") == {"YouTube": (1_000_000, 4900)}
    assert rollup_total(workspace, "first_touch", channel="YouTube") == {"r": 9800, "c": 2_000_000}
    assert identities_apply(workspace=workspace) == 0  # watermark: nothing new
    identities_apply_all()


def test_a_refund_of_a_non_usd_order_lowers_its_native_revenue_everywhere(workspace):
    from attribution.models import DailyTotal

    order = OrderFactory(workspace=workspace, currency="EUR", amount_minor=10000, amount_usd_minor=10800)
    conversion_record(order_id=order.pk)
    order.refunded_minor, order.refunded_usd_minor, order.status = 2500, 2700, "partially_refunded"
    order.save()
    conversion_record(order_id=order.pk)
    for model in MODELS:
        credit = Credit.objects.get(order=order, model=model)
        assert (credit.revenue_minor, credit.revenue_usd_minor) == (7500, 8100)
    version = AttributionState.objects.get(workspace=workspace).version
    native = DailyRollup.objects.filter(workspace=workspace, version=version).values_list("model", "revenue_minor")
    assert sorted(native) == sorted((model, 7500) for model in MODELS)
    total = DailyTotal.objects.get(workspace=workspace, version=version)
    assert (total.revenue_minor, total.revenue_usd_minor, total.currency) == (7500, 8100, "EUR")


def test_renewals_follow_when_their_first_orders_attribution_changes_later(workspace):
    subscription = active_subscription(workspace)
    first = OrderFactory(workspace=workspace, visitor_id="vis", kind="subscription_create", subscription=subscription)
    renewal = OrderFactory(
        workspace=workspace,
        visitor_id="vis",
        kind="renewal",
        subscription=subscription,
        placed_at=T0 + timedelta(days=30),
    )
    conversion_record(order_id=first.pk)
    conversion_record(order_id=renewal.pk)
    assert credits_of(renewal, "last_touch") == {"Unattributed": (1_000_000, 4900)}

    # The buyer's phone, bound to the same email later, had found the product through YouTube.
    TouchFactory(workspace=workspace, visitor_id="phone", occurred_at=T0 - timedelta(days=2), channel="YouTube")
    IdentityFactory(workspace=workspace, visitor_id="phone", email_digest="buyer", source="server")
    IdentityFactory(workspace=workspace, visitor_id="vis", email_digest="buyer", source="server")
    conversion_record(order_id=first.pk)  # only the first order is told
    assert credits_of(renewal, "last_touch") == {"YouTube": (1_000_000, 4900)}


def test_a_credit_refresh_for_an_order_that_is_gone_does_nothing(workspace):
    order_credits_refresh(order_id=987654)
    conversion_record(order_id=987654)
    assert not Credit.objects.exists()
