"""Paddle Billing through the ledger (as tests/integrations/test_ledger.py does for Polar): each delivery
parsed by the adapter and applied with `change_apply`."""

import datetime as dt

import pytest

from integrations.models import Customer, MatchedBy, Order, OrderKind, Refund, Subscription
from integrations.processors.errors import PayloadInvalid
from integrations.processors.paddle.adapter import PaddleAdapter
from integrations.processors.types import (
    ConnectionCredentials,
    CustomerChange,
    Ignored,
    OrderChange,
    RefundChange,
    SubscriptionChange,
)
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.paddle import DISCOUNTED, EVENT_TYPES, discount, encode, payload
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db

FIRST_SALE = "txn_01jh2k5zq0w1e2r3t4y5u6i7o8"
SUBSCRIPTION = "sub_01jh2k7m0z9x8c7v6b5n4m3l2k"
VISITOR = "v_8f3a2c91"
ADAPTER = PaddleAdapter(ConnectionCredentials(api_token="", webhook_secret="", api_base_url="", options={}))
CHANGES = {"transaction": OrderChange, "subscription": SubscriptionChange, "customer": CustomerChange}


@pytest.fixture
def connection():
    return ProcessorConnectionFactory(processor="paddle", api_base_url="https://api.paddle.com")


def parse(body: dict):
    (change,) = ADAPTER.parse_event(body=encode(body), headers={}).changes
    return change


def apply(connection, body: dict):
    return change_apply(connection=connection, change=parse(body))


def renewal(**data) -> dict:
    """The next month's transaction of the first sale's subscription: Paddle copied its custom_data."""
    fields = {
        "id": "txn_01jkq3w8e9r0t1y2u3i4o5p6a7",
        "origin": "subscription_recurring",
        "created_at": "2026-02-01T00:00:05.331Z",
        "billed_at": "2026-02-01T00:00:05.402Z",
        "updated_at": "2026-02-01T00:00:11.020Z",
        **data,
    }
    return payload("transaction.completed", **fields)


def order(external_id: str = FIRST_SALE) -> Order:
    return Order.objects.get(external_id=external_id)


# --- every event we ask for parses ---------------------------------------------------------------


def test_every_event_the_setup_lists_has_a_realistic_payload():
    assert set(PaddleAdapter.webhook_events) <= set(EVENT_TYPES)
    assert set(EVENT_TYPES) <= PaddleAdapter.handled_event_types


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_parses_from_a_realistic_payload(connection, event_type):
    body = payload(event_type)
    change = parse(body)
    if event_type == "adjustment.created":  # awaiting approval
        assert isinstance(change, Ignored)
    else:
        expected = RefundChange if event_type.startswith("adjustment.") else CHANGES[event_type.split(".")[0]]
        assert isinstance(change, expected)
        assert change_apply(connection=connection, change=change).obj is not None
    assert ADAPTER.delivery_id(body=encode(body), headers={}, payload=body) == body["event_id"]


# --- revenue ---------------------------------------------------------------------------------------


def test_a_first_sale_is_net_of_tax_and_discount_in_upper_case_currency(connection):
    apply(connection, payload("transaction.completed"))

    sale = order()
    assert (sale.kind, sale.status, sale.currency, sale.amount_minor, sale.tax_minor) == (
        OrderKind.SUBSCRIPTION_CREATE,
        "paid",
        "EUR",
        4900,
        980,
    )
    assert sale.paid_at == dt.datetime(2026, 1, 1, 0, 0, 3, 100000, tzinfo=dt.UTC)  # the captured payment
    assert (sale.visitor_id, sale.matched_by, sale.subscription_external_id) == (VISITOR, "metadata", SUBSCRIPTION)


def test_a_discount_comes_off_the_subtotal():
    body = payload("transaction.completed")
    body["data"]["details"]["totals"].update(subtotal="4900", discount="490", tax="882", total="5292")
    assert parse(body).order.amount_minor == 4410


def test_a_delivery_names_its_discount_and_a_listing_with_the_discount_its_code_too():
    delivered = payload(DISCOUNTED)
    listed = payload(DISCOUNTED, discount=discount())  # `include=discount`: the customer typed ACME20
    assert parse(delivered).order.discount_codes == ("dsc_01jgz8a3b4c5d6e7f8g9h0j1k2",)
    assert parse(listed).order.discount_codes == ("acme20", "dsc_01jgz8a3b4c5d6e7f8g9h0j1k2")
    assert parse(payload("transaction.completed")).order.discount_codes == ()


def test_money_comes_as_strings_or_the_transaction_is_unreadable():
    body = payload("transaction.completed")
    body["data"]["details"]["totals"]["subtotal"] = 4900
    with pytest.raises(PayloadInvalid, match="string amount"):
        parse(body)


@pytest.mark.parametrize(
    ("origin", "subscription_id", "kind"),
    [
        ("web", None, OrderKind.ONE_TIME),
        ("api", None, OrderKind.ONE_TIME),
        ("web", SUBSCRIPTION, OrderKind.SUBSCRIPTION_CREATE),
        ("api", SUBSCRIPTION, OrderKind.SUBSCRIPTION_CREATE),
        ("subscription_recurring", SUBSCRIPTION, OrderKind.RENEWAL),
        ("subscription_update", SUBSCRIPTION, OrderKind.RENEWAL),
        ("subscription_charge", SUBSCRIPTION, OrderKind.RENEWAL),
    ],
)
def test_the_origin_gives_the_kind(origin, subscription_id, kind):
    change = parse(payload("transaction.completed", origin=origin, subscription_id=subscription_id))
    assert change.order.kind == kind


@pytest.mark.parametrize(
    ("field", "value"),
    [("origin", "subscription_payment_method_change"), ("status", "draft"), ("status", "ready")],
)
def test_what_is_no_sale_is_ignored(field, value):
    assert isinstance(parse(payload("transaction.completed", **{field: value})), Ignored)


def test_an_older_transaction_update_never_overwrites_completed(connection):
    """laravel/cashier-paddle#310: `transaction.updated` (paid) processed after `transaction.completed`."""
    apply(connection, payload("transaction.completed"))
    apply(connection, payload("transaction.updated"))  # status paid, no subscription id yet, older
    apply(connection, payload("transaction.paid"))
    billed = payload("transaction.updated", status="billed", updated_at="2026-01-01T00:00:03.500Z")
    apply(connection, billed)

    sale = order()
    assert (sale.status, sale.kind, sale.subscription_external_id) == ("paid", "subscription_create", SUBSCRIPTION)


def test_paid_at_the_same_instant_as_completed_is_the_earlier_stage(connection):
    stamp = payload("transaction.completed")["data"]["updated_at"]
    apply(connection, payload("transaction.completed"))
    apply(connection, payload("transaction.paid", updated_at=stamp))
    assert (order().status, order().subscription_external_id) == ("paid", SUBSCRIPTION)


def test_revenue_counts_at_completed_not_at_paid(connection):
    apply(connection, payload("transaction.paid"))
    assert (order().status, order().paid_at) == ("pending", None)
    apply(connection, payload("transaction.completed"))
    assert (order().status, order().kind) == ("paid", "subscription_create")


# --- attribution ----------------------------------------------------------------------------------


def test_a_renewal_with_copied_custom_data_is_matched(connection):
    apply(connection, payload("transaction.completed"))
    apply(connection, renewal())

    assert (order(renewal()["data"]["id"]).kind, order(renewal()["data"]["id"]).visitor_id) == ("renewal", VISITOR)
    assert order(renewal()["data"]["id"]).matched_by == MatchedBy.METADATA


def test_a_renewal_whose_custom_data_was_replaced_follows_its_subscription(connection):
    apply(connection, payload("transaction.completed"))
    apply(connection, renewal(custom_data=None))
    assert (order(renewal()["data"]["id"]).visitor_id, order(renewal()["data"]["id"]).matched_by) == (
        VISITOR,
        MatchedBy.SUBSCRIPTION,
    )


def test_the_customer_event_brings_the_email_transactions_lack(connection):
    apply(connection, payload("transaction.completed"))
    assert order().customer_email_digest == ""

    apply(connection, payload("customer.created"))
    assert order().customer_email_digest == email_digest("ana@example.com")
    apply(connection, payload("customer.updated"))
    assert order().customer_email_digest == email_digest("ana.silva@example.com")

    apply(connection, payload("customer.created"))  # older: fills nothing the row has
    apply(connection, renewal())  # a transaction knows the customer by id only: it clears nothing
    assert Customer.objects.get().email_digest == email_digest("ana.silva@example.com")
    assert order(renewal()["data"]["id"]).customer_email_digest == email_digest("ana.silva@example.com")


def test_a_listed_transaction_brings_its_customer(connection):
    customer = payload("customer.updated")["data"]
    apply(connection, payload("transaction.completed", customer=customer))
    assert order().customer_email_digest == email_digest("ana.silva@example.com")


# --- subscriptions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("subscription.created", "active"),
        ("subscription.activated", "active"),
        ("subscription.trialing", "trialing"),
        ("subscription.updated", "active"),
        ("subscription.past_due", "past_due"),
        ("subscription.paused", "paused"),
        ("subscription.resumed", "active"),
        ("subscription.canceled", "canceled"),
    ],
)
def test_subscription_statuses(connection, event_type, status):
    apply(connection, payload(event_type))
    assert Subscription.objects.get().status == status


def test_a_scheduled_cancel_then_the_cancellation(connection):
    apply(connection, payload("subscription.created"))
    apply(connection, payload("subscription.updated"))
    scheduled = Subscription.objects.get()
    assert scheduled.cancel_at_period_end and scheduled.status == "active"
    assert scheduled.current_period_end == dt.datetime(2026, 2, 1, 0, 0, 4, tzinfo=dt.UTC)

    apply(connection, payload("subscription.canceled"))
    ended = Subscription.objects.get()
    assert (ended.status, ended.ended_at) == ("canceled", dt.datetime(2026, 2, 1, 0, 0, 4, tzinfo=dt.UTC))
    apply(connection, payload("subscription.past_due", updated_at="2026-01-31T23:00:00.000Z"))  # older
    assert Subscription.objects.get().status == "canceled"


def test_an_unknown_subscription_status_is_ignored():
    assert isinstance(parse(payload("subscription.updated", status="inactive")), Ignored)


# --- refunds and chargebacks ----------------------------------------------------------------------


def test_a_refund_pending_approval_changes_nothing_until_approved(connection):
    apply(connection, payload("transaction.completed"))
    apply(connection, payload("adjustment.created"))
    assert not Refund.objects.exists()
    assert (order().refunded_minor, order().status) == (0, "paid")

    apply(connection, payload("adjustment.updated"))
    refund = Refund.objects.get()
    assert (refund.external_id, refund.status, refund.amount_minor) == (
        "adj_01jhk9p1m2n3b4v5c6x7z8l9k0",
        "succeeded",
        2450,
    )
    assert (order().refunded_minor, order().status) == (2450, "partially_refunded")

    apply(connection, payload("adjustment.created"))  # a late retry of the pending state
    assert order().refunded_minor == 2450


def test_a_rejected_refund_books_nothing(connection):
    apply(connection, payload("transaction.completed"))
    apply(connection, payload("adjustment.updated", status="rejected"))
    assert Refund.objects.get().status == "failed"
    assert (order().refunded_minor, order().status) == (0, "paid")


def test_credits_move_no_money():
    for action in ("credit", "credit_reverse", "chargeback_warning"):
        assert isinstance(parse(payload("adjustment.updated", action=action)), Ignored)


def chargeback(**data) -> dict:
    fields = {"action": "chargeback", "status": "approved", "type": "full", "reason": "fraudulent", "items": []}
    fields["totals"] = {
        **payload("adjustment.updated")["data"]["totals"],
        "subtotal": "4900",
        "tax": "980",
        "total": "5880",
    }
    return payload("adjustment.created", **{**fields, **data})


@pytest.mark.parametrize("reverse_first", [False, True], ids=["in order", "reversal first"])
def test_a_won_chargeback_gives_the_revenue_back(connection, reverse_first):
    apply(connection, payload("transaction.completed"))
    taken = chargeback(id="adj_01jp00000000000000000000cb")
    reversed_ = chargeback(
        id="adj_01jp00000000000000000000cr", action="chargeback_reverse", created_at="2026-02-10T09:00:00.000Z"
    )
    won = chargeback(id=taken["data"]["id"], status="reversed", updated_at="2026-02-10T09:00:00.100Z")
    deliveries = [reversed_, taken, won] if reverse_first else [taken, reversed_, won]

    apply(connection, deliveries[0])
    if not reverse_first:
        assert (order().refunded_minor, order().status) == (4900, "refunded")
    for body in deliveries[1:]:
        apply(connection, body)

    assert (order().refunded_minor, order().status) == (0, "paid")
    assert sorted(Refund.objects.values_list("amount_minor", flat=True)) == [-4900, 4900]
