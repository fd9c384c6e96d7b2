""" "Attribution changed" (settings.ATTRIBUTION_CONSUMERS, issue 10 item 2): a consumer is told, after
attribution has written, about every change of an order's visitor match or credits, and what it reads
then is the final state, never one older than a state it already saw."""

import datetime as dt
from collections import defaultdict

import pytest
from celery import shared_task

from attribution.models import ChannelRule
from attribution.selectors.orders import order_attribution_get
from attribution.services.channels import channel_rule_create
from attribution.services.conversions import identities_apply
from attribution.services.pixel import identity_bind
from integrations.models import Order
from integrations.services.webhooks import webhook_event_process
from tests.factories.engine import TouchFactory
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory, webhook_deliver
from tests.integrations.polar import event, payload
from trackrev.common.emails import email_digest
from trackrev.workspaces.services import workspace_update

pytestmark = pytest.mark.django_db

PROBE = "tests.attribution_probe"
PLACED = dt.datetime(2026, 9, 3, 14, 22, tzinfo=dt.UTC)
VISITOR = "v_01J8Z3K2M4"  # the reference order's customer metadata
seen: dict[int, list[tuple]] = defaultdict(list)


@shared_task(name=PROBE)
def attribution_probe(order_id: int) -> None:
    """A consumer as the affiliate engine will be one: it reads the state it is told about."""
    state = order_attribution_get(order_id=order_id)
    seen[order_id].append(observed(state))


def observed(state) -> tuple:
    credits = {
        model: sorted((c.channel, c.weight, c.revenue_usd_minor) for c in rows) for model, rows in state.credits.items()
    }
    return state.revision, state.order.visitor_id, state.order.matched_by, credits["last_touch"], credits["linear"]


def final(order) -> tuple:
    return observed(order_attribution_get(order_id=order.pk))


@pytest.fixture(autouse=True)
def _probe(settings):
    settings.ATTRIBUTION_CONSUMERS = [PROBE]
    seen.clear()


@pytest.fixture
def connection():
    return ProcessorConnectionFactory()


def touch(workspace, visitor_id, days_before, channel, group="Referral"):
    return TouchFactory(
        workspace=workspace,
        visitor_id=visitor_id,
        occurred_at=PLACED - dt.timedelta(days=days_before),
        channel=channel,
        channel_group=group,
    )


def assert_consistent(order):
    """Each consumer run saw a newer revision than the one before, and the last run saw the final state."""
    revisions = [s[0] for s in seen[order.pk]]
    assert revisions == sorted(set(revisions)), revisions
    assert seen[order.pk][-1] == final(order)


def test_first_credit(connection, broker, committed):
    touch(connection.workspace, VISITOR, 2, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    assert seen[order.pk] == [
        (1, VISITOR, "metadata", [("Newsletter", 1_000_000, 4410)], [("Newsletter", 1_000_000, 4410)])
    ]


def test_a_pending_order_is_told_when_matched_and_again_when_paid(connection, broker, committed):
    touch(connection.workspace, VISITOR, 2, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase", status="pending", paid=False), committed, broker)
    order = Order.objects.get()
    assert seen[order.pk] == [(1, VISITOR, "metadata", [], [])]  # matched, nothing credited yet
    webhook_deliver(
        connection, event("order_created_purchase", "order.paid", modified_at="2026-09-03T14:23:00Z"), committed, broker
    )
    assert [s[3] for s in seen[order.pk]] == [[], [("Newsletter", 1_000_000, 4410)]]
    assert_consistent(order)


def test_a_late_identify_match(connection, broker, committed):
    body = payload("order_created_purchase")
    body["data"]["customer"]["metadata"] = {}  # the checkout lost the visitor id
    webhook_deliver(connection, body, committed, broker)
    order = Order.objects.get()
    assert seen[order.pk][-1][2] == "none" and seen[order.pk][-1][3] == [("Unattributed", 1_000_000, 4410)]
    touch(connection.workspace, "v_browser", 3, "YouTube")
    identity_bind(workspace_id=connection.workspace_id, visitor_id="v_browser", email="jana@example.com", now=PLACED)
    with committed():
        identities_apply(workspace=connection.workspace)
    broker.run()
    assert seen[order.pk][-1][1:4] == ("v_browser", "email", [("YouTube", 1_000_000, 4410)])
    assert_consistent(order)


def test_stitching_another_visitor_of_the_same_buyer(connection, broker, committed):
    touch(connection.workspace, VISITOR, 1, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    touch(connection.workspace, "v_phone", 5, "YouTube")
    # The customer's backend binds the buyer's phone (only server bindings stitch visitors).
    identity_bind(
        workspace_id=connection.workspace_id,
        visitor_id="v_phone",
        email="jana@example.com",
        source="server",
        now=PLACED,
    )
    with committed():
        identities_apply(workspace=connection.workspace)
    broker.run()
    assert seen[order.pk][-1][4] == [("Newsletter", 500_000, 2205), ("YouTube", 500_000, 2205)]  # linear
    assert_consistent(order)


def test_a_refund(connection, broker, committed):
    touch(connection.workspace, VISITOR, 2, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    webhook_deliver(connection, payload("refund_created"), committed, broker)
    assert seen[order.pk][-1][3] == [("Newsletter", 1_000_000, 0)]
    assert_consistent(order)


def test_a_recompute_switch(connection, broker, committed):
    touch(connection.workspace, VISITOR, 20, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    with committed():
        workspace_update(workspace=connection.workspace, data={"lookback_days": 7})  # the touch falls out
    broker.run()
    assert seen[order.pk][-1][3] == [("Unattributed", 1_000_000, 4410)]
    assert_consistent(order)


def test_a_recompute_that_changes_nothing_tells_nobody(connection, broker, committed):
    touch(connection.workspace, VISITOR, 2, "Newsletter", "Email")
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    with committed():
        workspace_update(workspace=connection.workspace, data={"lookback_days": 7})
    broker.run()
    assert len(seen[order.pk]) == 1


def test_a_channel_rule_re_applied_to_history(connection, broker, committed):
    from attribution.services.pixel import touch_record

    touch_record(
        workspace=connection.workspace,
        visitor_id=VISITOR,
        url="https://shop.example.com/?utm_source=beehiiv",
        occurred_at=PLACED - dt.timedelta(days=2),
    )
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    order = Order.objects.get()
    before = seen[order.pk][-1][3]
    with committed():
        channel_rule_create(
            workspace=connection.workspace,
            field="source",
            operator="equals",
            value="beehiiv",
            channel="Weekly",
            channel_group="Email",
        )
    broker.run()
    assert ChannelRule.objects.exists() and before != [("Weekly", 1_000_000, 4410)]
    assert seen[order.pk][-1][3] == [("Weekly", 1_000_000, 4410)]
    assert_consistent(order)


def test_a_burst_of_changes_to_one_order_is_seen_in_its_final_state(connection, broker, committed):
    """created (pending), paid, partially refunded, refunded in full: delivered one after the other while
    the consumer's worker is busy elsewhere; when it gets to them, it sees the end state, once."""
    touch(connection.workspace, VISITOR, 2, "Newsletter", "Email")
    bursts = [
        payload("order_created_purchase", status="pending", paid=False),
        event("order_created_purchase", "order.paid", modified_at="2026-09-03T14:23:00Z"),
        event(
            "order_created_purchase",
            "order.updated",
            status="partially_refunded",
            refunded_amount=1000,
            modified_at="2026-09-05T10:00:00Z",
        ),
        event(
            "order_created_purchase",
            "order.refunded",
            status="refunded",
            refunded_amount=4410,
            modified_at="2026-09-06T10:00:00Z",
        ),
    ]
    for body in bursts:
        stored = WebhookEventFactory(connection=connection, payload=body)
        with committed():
            webhook_event_process(event_id=stored.pk)
    broker.run()
    order = Order.objects.get()
    assert order.status == "refunded"
    assert seen[order.pk] == [final(order)]
    assert seen[order.pk][0][3] == [("Newsletter", 1_000_000, 0)]


def test_an_order_unmatched_and_uncredited_is_not_announced(connection, broker, committed):
    body = payload("order_created_purchase", status="pending", paid=False)
    body["data"]["customer"]["metadata"] = {}
    body["data"]["customer"]["email"] = "nobody@example.com"
    webhook_deliver(connection, body, committed, broker)
    assert seen == {} and email_digest("nobody@example.com")
