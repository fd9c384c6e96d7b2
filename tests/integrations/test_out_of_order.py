"""Out-of-order and stale deliveries converge on the in-order state (property-based)."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Order, Subscription
from integrations.processors.polar import mapping
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import event, payload

pytestmark = pytest.mark.django_db


def history() -> list[dict]:
    """A subscription's life as Polar reports it (polar.md §2.2 and §4): create, cancel at period end,
    uncancel, cancel again, then revoke at period end. Twin events carry identical snapshots."""
    base = {"canceled_at": None, "ends_at": None, "ended_at": None, "cancel_at_period_end": False}
    created = {**base, "status": "incomplete", "modified_at": None, "created_at": "2026-09-03T14:25:09.500112Z"}
    active = {**base, "status": "active", "modified_at": "2026-09-03T14:25:10.000000Z"}
    canceling = {
        **base,
        "status": "active",
        "cancel_at_period_end": True,
        "canceled_at": "2026-10-20T08:11:42.660019Z",
        "ends_at": "2026-11-03T14:25:09Z",
        "modified_at": "2026-10-20T08:11:42.700000Z",
    }
    uncanceled = {**active, "modified_at": "2026-10-21T09:00:00.000000Z"}
    canceling_again = {**canceling, "canceled_at": "2026-10-25T10:00:00Z", "modified_at": "2026-10-25T10:00:00.100000Z"}
    revoked = {
        **canceling_again,
        "status": "canceled",
        "ended_at": "2026-11-03T14:25:12.118870Z",
        "modified_at": "2026-11-03T14:25:12.120554Z",
    }
    steps = [
        ("subscription.created", created),
        ("subscription.active", active),
        ("subscription.updated", active),
        ("subscription.updated", canceling),
        ("subscription.canceled", canceling),
        ("subscription.uncanceled", uncanceled),
        ("subscription.updated", canceling_again),
        ("subscription.canceled", canceling_again),
        ("subscription.updated", revoked),
        ("subscription.revoked", revoked),
    ]
    return [event("subscription_updated_revoked", kind, **data) for kind, data in steps]


FIELDS = ("status", "cancel_at_period_end", "canceled_at", "ended_at", "current_period_end", "source_updated_at")


def deliver(events) -> tuple:
    connection = ProcessorConnectionFactory()
    for body in events:
        for change in mapping.event_from(body).changes:
            change_apply(connection=connection, change=change)
    subscription = Subscription.objects.get(connection=connection)
    return tuple(getattr(subscription, field) for field in FIELDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(10)))
def test_any_delivery_order_ends_in_the_in_order_state(order):
    events = history()
    expected = deliver(events)
    assert expected[0] == "canceled"
    assert deliver([events[i] for i in order]) == expected


def test_stale_active_never_revives_a_canceled_subscription():
    events = history()
    assert deliver([events[-1], events[1], events[2], events[0]])[0] == "canceled"
    # and a retry of every older event, twice over, after the revoke
    assert deliver([*events, *events[:-2], *events[:-2]])[0] == "canceled"


def test_all_permutations_of_a_short_history():
    events = history()[3:8]
    expected = deliver(events)
    for order in itertools.permutations(range(5)):
        assert deliver([events[i] for i in order]) == expected


def refund_history(amount: int) -> list[dict]:
    """An order, then refunded by `amount` of its 4410 (polar.md §7.4): refund.created, then the
    order.updated carrying the new status and its twin order.refunded."""
    refunded = {
        "status": "refunded" if amount == 4410 else "partially_refunded",
        "refunded_amount": amount,
        "modified_at": "2026-09-10T10:02:45.000000Z",
    }
    return [
        payload("order_created_purchase"),
        payload("refund_created", amount=amount),
        event("order_created_purchase", "order.updated", **refunded),
        event("order_created_purchase", "order.refunded", **refunded),
    ]


def order_state(events) -> tuple:
    connection = ProcessorConnectionFactory()
    for body in events:
        for change in mapping.event_from(body).changes:
            change_apply(connection=connection, change=change)
    order = Order.objects.get(connection=connection)
    return order.status, order.refunded_minor


@pytest.mark.parametrize(("amount", "status"), [(4410, "refunded"), (1000, "partially_refunded")])
def test_a_refunded_order_says_so_in_any_delivery_order(amount, status):
    events = refund_history(amount)
    for order in itertools.permutations(range(len(events))):
        assert order_state([events[i] for i in order]) == (status, amount)
    # the order updates lost: the refund alone, before or after the paid snapshot, tells the status
    assert order_state(events[:2]) == order_state(events[1::-1]) == (status, amount)
