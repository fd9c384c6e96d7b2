import datetime as dt

import pytest

from integrations.models import FirstSeenVia, MatchedBy, Order, OrderKind
from integrations.processors.polar import mapping
from integrations.services.ledger import change_apply, order_match_visitor
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import event, iso, payload
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db

CONSUMER = "tests.order_consumer"


@pytest.fixture
def connection():
    return ProcessorConnectionFactory()


@pytest.fixture(autouse=True)
def _consumers(settings):
    settings.ORDER_CONSUMERS = [CONSUMER]


def apply(connection, body, via=FirstSeenVia.WEBHOOK):
    (change,) = mapping.event_from(body).changes
    return change_apply(connection=connection, change=change, via=via)


def test_checkout_trio_is_one_order_counted_once(connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        for event_type in ("order.created", "order.updated", "order.paid"):
            apply(connection, event("order_created_purchase", event_type))

    order = Order.objects.get()
    assert (order.kind, order.status, order.currency, order.amount_minor) == (OrderKind.ONE_TIME, "paid", "USD", 4410)
    assert order.paid_at == dt.datetime(2026, 9, 3, 14, 22, 5, 118402, tzinfo=dt.UTC)
    assert order.tax_minor == 882
    assert order.first_seen_via == FirstSeenVia.WEBHOOK
    assert len(callbacks) == 1  # consumers hear about it once


def test_renewal_pending_then_paid_counts_once_on_payment(connection, django_capture_on_commit_callbacks):
    apply(connection, payload("order_created_renewal_pending"))
    pending = Order.objects.get()
    assert (pending.kind, pending.status, pending.is_paid, pending.paid_at) == (
        OrderKind.RENEWAL,
        "pending",
        False,
        None,
    )

    paid_at = "2026-10-03T14:27:40.100000Z"
    paid = {"status": "paid", "paid": True, "modified_at": paid_at}
    with django_capture_on_commit_callbacks() as callbacks:
        apply(connection, event("order_created_renewal_pending", "order.updated", **paid))
        apply(connection, event("order_created_renewal_pending", "order.paid", **paid))
        apply(connection, payload("order_created_renewal_pending"))  # a stale retry of order.created

    order = Order.objects.get()
    assert order.status == "paid"
    assert order.is_paid
    assert iso(order.paid_at) == paid_at
    assert len(callbacks) == 1


def test_stale_snapshot_never_overwrites_newer_state(connection):
    refunded = {"status": "refunded", "refunded_amount": 4410, "modified_at": "2026-09-10T10:02:45.000000Z"}
    apply(connection, event("order_created_purchase", "order.refunded", **refunded))
    apply(connection, payload("order_created_purchase"))  # delivered 30 min late, old snapshot

    order = Order.objects.get()
    assert (order.status, order.refunded_minor) == ("refunded", 4410)
    assert iso(order.paid_at) == "2026-09-10T10:02:45.000000Z"  # first seen paid is the refunded state


def test_refund_event_before_and_after_its_order(connection):
    apply(connection, payload("refund_created"))
    apply(connection, payload("order_created_purchase"))

    order = Order.objects.get()
    assert order.refunded_minor == 4410
    assert order.refunds.get().amount_minor == 4410


def test_match_by_order_metadata(connection):
    body = payload("order_created_purchase", metadata={"trackrev_visitor_id": "v_checkout_meta"})
    body["data"]["customer"]["metadata"] = {}
    apply(connection, body)

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("v_checkout_meta", MatchedBy.METADATA)


def test_match_by_customer_metadata(connection):
    # Reference §7.1: utm keys in order metadata, the visitor id in customer_metadata only.
    apply(connection, payload("order_created_purchase"))

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("v_01J8Z3K2M4", MatchedBy.METADATA)
    assert order.customer.visitor_id == "v_01J8Z3K2M4"
    assert order.customer_email_digest == email_digest("jana@example.com")


def test_renewal_matched_through_the_subscriptions_first_order(connection):
    first = payload(
        "order_created_purchase",
        id="11111111-0000-4000-8000-000000000001",
        billing_reason="subscription_create",
        subscription_id="3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f",
        metadata={"trackrev_visitor_id": "v_first_visit"},
    )
    first["data"]["customer"]["metadata"] = {}
    apply(connection, first)
    renewal = payload("order_created_renewal_pending", status="paid", metadata={"reference_id": "trk_77ab01"})
    renewal["data"]["customer"]["metadata"] = {}
    apply(connection, renewal)

    order = Order.objects.get(external_id=renewal["data"]["id"])
    assert (order.kind, order.visitor_id, order.matched_by) == (
        OrderKind.RENEWAL,
        "v_first_visit",
        MatchedBy.SUBSCRIPTION,
    )


def test_email_fallback_recorded_by_attribution_and_kept(connection):
    body = payload("order_created_purchase")
    body["data"]["customer"]["metadata"] = {}
    apply(connection, body)
    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("", MatchedBy.NONE)
    assert order.customer_email_digest == email_digest("Jana@Example.com ")

    order_match_visitor(order=order, visitor_id="v_identified", matched_by=MatchedBy.EMAIL)
    later = payload("order_created_purchase", status="refunded", modified_at="2026-09-10T10:02:45.000000Z")
    later["data"]["customer"]["metadata"] = {}
    apply(connection, later)

    order.refresh_from_db()
    assert (order.visitor_id, order.matched_by, order.status) == ("v_identified", MatchedBy.EMAIL, "refunded")


def test_email_match_never_overrides_metadata(connection):
    apply(connection, payload("order_created_purchase"))
    order = order_match_visitor(order=Order.objects.get(), visitor_id="v_other", matched_by=MatchedBy.EMAIL)
    assert (order.visitor_id, order.matched_by) == ("v_01J8Z3K2M4", MatchedBy.METADATA)


def test_unknown_enum_values_are_ignored(connection):
    assert apply(connection, payload("order_created_purchase", status="on_hold")).obj is None
    assert apply(connection, payload("order_created_purchase", billing_reason="gift_card")).obj is None
    assert not Order.objects.exists()
