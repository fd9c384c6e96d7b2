"""Lemon Squeezy deliveries through the mapping into the ledger (change_apply, as the webhook worker and
the poll apply them): first sales, subscriptions and their first order, renewals from subscription
invoices, cumulative refunds, and the email fallback when a checkout carried no custom data."""

import datetime as dt

import pytest

from attribution.services.conversions import identities_apply
from attribution.services.pixel import identity_bind
from integrations.models import MatchedBy, Order, OrderKind, Subscription, SubscriptionStatus
from integrations.processors.lemonsqueezy import mapping
from integrations.processors.lemonsqueezy.adapter import LemonSqueezyAdapter
from integrations.processors.parsing import iso_datetime
from integrations.processors.types import Ignored, OrderChange, SubscriptionChange
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.lemonsqueezy import NAMES, payload
from trackrev.common.emails import email_digest

VISITOR = "v_8f3a2c91"
ORDER_ID, SUBSCRIPTION_ID, INITIAL_INVOICE, RENEWAL_INVOICE = "4810237", "1093746", "2285017", "2297384"
PLACED = dt.datetime(2026, 1, 1, 0, 0, 4, tzinfo=dt.UTC)


@pytest.fixture
def connection(db):
    return ProcessorConnectionFactory(processor="lemonsqueezy", api_base_url="https://api.lemonsqueezy.com/v1")


def parse(body: dict):
    (change,) = mapping.event_from(body).changes
    return change


def apply(connection, *bodies):
    for body in bodies:
        change_apply(connection=connection, change=parse(body))


def order(external_id: str = ORDER_ID) -> Order:
    return Order.objects.get(external_id=external_id)


# --- every event ------------------------------------------------------------------------------------


def test_every_subscribed_event_has_a_realistic_payload():
    covered = {payload(name)["meta"]["event_name"] for name in NAMES}
    assert covered == set(LemonSqueezyAdapter.webhook_events)
    assert LemonSqueezyAdapter.handled_event_types == set(LemonSqueezyAdapter.webhook_events)


@pytest.mark.parametrize("name", NAMES)
def test_every_payload_parses(name):
    body = payload(name)
    parsed = mapping.event_from(body)
    assert parsed.event_type == body["meta"]["event_name"]
    assert parsed.occurred_at == iso_datetime(body["data"]["attributes"]["updated_at"])
    (change,) = parsed.changes
    if name.endswith("_initial"):  # the payment its subscription's first order counts
        assert isinstance(change, Ignored)
    elif body["data"]["type"] == "subscriptions":
        assert isinstance(change, SubscriptionChange) and change.subscription.external_id == SUBSCRIPTION_ID
        assert change.subscription.visitor_ref == VISITOR and change.subscription.first_order_external_id == ORDER_ID
    else:
        assert isinstance(change, OrderChange)
        assert change.order.currency == "EUR" and change.order.customer.email == "ana@example.com"


def test_an_unused_event_is_ignored():
    body = payload("order_created")
    body["meta"]["event_name"] = "license_key_created"
    assert isinstance(parse(body), Ignored)


# --- orders -----------------------------------------------------------------------------------------


def test_a_first_sale_is_net_of_tax_in_minor_units_with_its_visitor(connection):
    apply(connection, payload("order_created"))
    sale = order()
    assert (sale.kind, sale.status, sale.currency, sale.amount_minor, sale.tax_minor) == (
        OrderKind.ONE_TIME,
        "paid",
        "EUR",
        4900,
        980,
    )
    assert (sale.placed_at, sale.paid_at) == (PLACED, PLACED)
    assert (sale.visitor_id, sale.matched_by) == (VISITOR, MatchedBy.METADATA)
    assert sale.customer.external_id == "3399871"
    assert sale.customer_email_digest == email_digest("ana@example.com")


def test_net_revenue_is_after_discount_and_before_tax(connection):
    # €49 less a €9 discount, plus 20% VAT on €40: subtotal, discount_total, tax, total as the API sends them.
    apply(connection, payload("order_created", subtotal=4900, discount_total=900, tax=800, total=4800))
    assert (order().amount_minor, order().tax_minor) == (4000, 800)


def test_an_order_names_no_discount_code():
    """An order says how much its discounts took off (`discount_total`), not which codes: those are its
    `discount-redemptions`, a relationship the payload only links to."""
    body = payload("order_created", subtotal=4900, discount_total=900, tax=800, total=4800)
    assert "discount-redemptions" in body["data"]["relationships"]
    assert parse(body).order.discount_codes == ()


def test_a_visitor_id_sent_as_a_number_arrives_as_a_string(connection):
    apply(connection, payload("order_created", custom_data={"trackrev_visitor_id": 12345}))
    assert order().visitor_id == "12345"


def test_refunds_are_cumulative_and_net_of_tax(connection):
    apply(connection, payload("order_created"), payload("order_refunded"))
    assert (order().refunded_minor, order().status) == (2450, "partially_refunded")  # half of €58.80

    full = payload("order_refunded", refunded_amount=5880, status="refunded", updated_at="2026-01-09T08:00:00.000000Z")
    apply(connection, full, payload("order_refunded"))  # the older partial state, replayed late, changes nothing
    assert (order().refunded_minor, order().status) == (4900, "refunded")
    assert Order.objects.count() == 1


# --- subscriptions and their first order ---------------------------------------------------------------


def test_order_created_and_the_initial_invoice_count_once_and_its_refund_subtracts_once(connection):
    apply(
        connection,
        payload("order_created"),
        payload("subscription_created"),
        payload("subscription_payment_success_initial"),
    )
    sale = order()
    assert Order.objects.count() == 1
    assert (sale.kind, sale.amount_minor, sale.subscription.external_id) == (
        OrderKind.SUBSCRIPTION_CREATE,
        4900,
        SUBSCRIPTION_ID,
    )

    apply(connection, payload("order_refunded"), payload("subscription_payment_refunded_initial"))
    assert Order.objects.count() == 1
    assert order().refunded_minor == 2450


def test_the_subscription_names_its_first_order_whichever_arrives_first(connection):
    apply(connection, payload("subscription_created", custom_data={}), payload("order_created"))
    assert order().subscription is None  # the order names no subscription: its subscription's next state links it
    apply(connection, payload("subscription_updated", custom_data={}))
    sale = order()
    assert (sale.subscription.external_id, sale.kind) == (SUBSCRIPTION_ID, OrderKind.SUBSCRIPTION_CREATE)

    apply(connection, payload("order_refunded"))  # an order's own state never unlinks it
    assert (order().subscription_external_id, order().kind) == (SUBSCRIPTION_ID, OrderKind.SUBSCRIPTION_CREATE)


def test_a_renewal_invoice_credits_the_visitor_of_the_subscriptions_first_order(connection):
    # The subscription's own webhook lost the custom data: the first order, which it names, binds the visitor.
    apply(
        connection,
        payload("order_created"),
        payload("subscription_created", custom_data={}),
        payload("subscription_payment_success_renewal"),
    )
    renewal = order(f"invoice-{RENEWAL_INVOICE}")
    assert (renewal.kind, renewal.status, renewal.amount_minor, renewal.visitor_ref) == (
        OrderKind.RENEWAL,
        "paid",
        4900,
        "",
    )
    assert (renewal.visitor_id, renewal.matched_by) == (VISITOR, MatchedBy.SUBSCRIPTION)
    assert renewal.subscription == order().subscription


def test_the_invoice_id_is_never_taken_for_the_subscription_id(connection):
    # Another subscription whose id is the renewal invoice's id (separate sequences), and an order with it too.
    apply(connection, payload("subscription_created"), payload("order_created"))
    other = payload("subscription_created", custom_data={"trackrev_visitor_id": "v_other"}, order_id=999)
    other["data"]["id"] = RENEWAL_INVOICE
    same_number = payload("order_created", custom_data={"trackrev_visitor_id": "v_other"})
    same_number["data"]["id"] = RENEWAL_INVOICE
    apply(connection, other, same_number, payload("subscription_payment_success_renewal"))

    renewal = order(f"invoice-{RENEWAL_INVOICE}")
    assert (renewal.subscription.external_id, renewal.visitor_id) == (SUBSCRIPTION_ID, VISITOR)
    assert order(RENEWAL_INVOICE).amount_minor == 4900 and Order.objects.count() == 3
    assert not Subscription.objects.get(external_id=RENEWAL_INVOICE).orders.exists()


def test_a_renewal_refund_is_its_invoices_refund(connection):
    apply(
        connection,
        payload("subscription_created"),
        payload("subscription_payment_success_renewal"),
        payload("subscription_payment_refunded_renewal"),
    )
    renewal = order(f"invoice-{RENEWAL_INVOICE}")
    assert (renewal.refunded_minor, renewal.status, renewal.paid_at) == (
        4900,
        "refunded",
        dt.datetime(2026, 2, 1, 0, 0, 9, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("name", "status", "cancel_at_period_end", "ended"),
    [
        ("subscription_created", SubscriptionStatus.ACTIVE, False, False),
        ("subscription_cancelled", SubscriptionStatus.ACTIVE, True, False),  # a grace period until ends_at
        ("subscription_resumed", SubscriptionStatus.ACTIVE, False, False),
        ("subscription_paused", SubscriptionStatus.PAUSED, False, False),
        ("subscription_expired", SubscriptionStatus.CANCELED, False, True),
    ],
)
def test_subscription_states(connection, name, status, cancel_at_period_end, ended):
    apply(connection, payload(name))
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.cancel_at_period_end) == (status, cancel_at_period_end)
    ends_at = dt.datetime(2026, 3, 1, 0, 0, 4, tzinfo=dt.UTC)
    assert subscription.ended_at == (ends_at if ended else None)
    if name in ("subscription_cancelled", "subscription_expired"):
        assert subscription.current_period_end == ends_at
    assert subscription.visitor_id == VISITOR


@pytest.mark.parametrize(
    ("given", "expected"),
    [("on_trial", "trialing"), ("past_due", "past_due"), ("unpaid", "unpaid"), ("paused", "paused")],
)
def test_subscription_statuses(given, expected):
    assert parse(payload("subscription_updated", status=given)).subscription.status == expected


# --- no custom data ---------------------------------------------------------------------------------


def test_an_order_without_custom_data_is_matched_by_the_email_identify_bound(connection):
    apply(connection, payload("order_created", custom_data={}))
    assert (order().visitor_id, order().matched_by) == ("", MatchedBy.NONE)

    identity_bind(workspace_id=connection.workspace_id, visitor_id="v_browser", email="Ana@Example.com", now=PLACED)
    identities_apply(workspace=connection.workspace)
    assert (order().visitor_id, order().matched_by) == ("v_browser", MatchedBy.EMAIL)
