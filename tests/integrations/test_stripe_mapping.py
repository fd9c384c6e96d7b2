"""Stripe deliveries through the inbox worker into the ledger (adapter.parse_event → change_apply): one sale per
payment whichever objects report it, visitors joined through the subscription, refunds and lost disputes net
of tax, and amounts in the currency's ISO minor units. Refunds and disputes ask the local fake API which order
their payment paid for."""

import copy
import datetime as dt
from decimal import Decimal

import pytest

from integrations.models import ExchangeRate, MatchedBy, Order, OrderKind, Refund, Subscription, WebhookEvent
from integrations.processors.stripe.adapter import StripeAdapter
from integrations.processors.stripe.mapping import invoice_from, session_from, to_minor
from integrations.processors.types import ConnectionCredentials, Ignored, OrderChange
from integrations.services.webhooks import webhook_event_process
from tests.factories.integrations import ProcessorConnectionFactory, WebhookEventFactory
from tests.integrations.fake_stripe import FakeStripe
from tests.integrations.stripe import (
    CUSTOMER,
    INVOICE,
    PAYMENT_INTENT,
    SECRET,
    SUBSCRIPTION,
    TOKEN,
    VISITOR,
    as_event,
    discount,
    event_types,
    payload,
)

pytestmark = pytest.mark.django_db

ONE_TIME_VISITOR = "v_0c1d2e3f4a5b6c7d8e9f"  # checkout_session_payment.json's


@pytest.fixture
def fake():
    with FakeStripe(token=TOKEN) as server:
        invoice = payload("invoice.paid")["data"]["object"]
        server.invoices.append(invoice)
        server.add_invoice_payment(invoice, PAYMENT_INTENT)
        yield server


@pytest.fixture
def connection(fake):
    return ProcessorConnectionFactory(
        processor="stripe", api_base_url=fake.base_url, api_token=TOKEN, webhook_secret=SECRET
    )


def deliver(connection, *bodies) -> list[str]:
    """Each delivery stored in the inbox and processed by the worker, as Stripe sends them: their statuses."""
    statuses = []
    for body in bodies:
        stored = WebhookEventFactory(connection=connection, payload=body)
        event = webhook_event_process(event_id=stored.pk)
        assert event.status != "failed", event.last_error
        statuses.append(event.status)
    return statuses


def without_visitor(body: dict) -> dict:
    """An invoice event whose subscription carries no visitor id (the shop passed it on the session only)."""
    body = copy.deepcopy(body)
    body["data"]["object"]["parent"]["subscription_details"]["metadata"] = {}
    return body


def invoice_event(**fields) -> dict:
    return without_visitor(payload("invoice.paid", **fields))


@pytest.mark.parametrize("event_type", StripeAdapter.webhook_events)
def test_every_event_we_subscribe_to_parses_from_its_realistic_payload(connection, event_type):
    assert event_type in event_types()  # tests/integrations/payloads/stripe/<event type>.json
    body = payload(event_type)
    assert body["type"] == event_type and body["api_version"] == "2026-06-24.dahlia"

    assert deliver(connection, body) == ["processed"]
    assert WebhookEvent.objects.get().event_type == event_type


@pytest.mark.parametrize("invoice_first", [False, True], ids=["checkout first", "invoice first"])
def test_a_subscription_checkout_and_its_first_invoice_are_one_sale_in_either_order(connection, invoice_first):
    bodies = [payload("checkout.session.completed"), invoice_event()]
    deliver(connection, *(reversed(bodies) if invoice_first else bodies))
    deliver(connection, payload("customer.subscription.created", metadata={}))  # no visitor on the subscription

    order = Order.objects.get()
    assert (order.external_id, order.kind, order.status) == (INVOICE, OrderKind.SUBSCRIPTION_CREATE, "paid")
    assert (order.currency, order.amount_minor, order.tax_minor) == ("EUR", 4900, 980)
    assert (order.visitor_id, order.matched_by) == (VISITOR, MatchedBy.SUBSCRIPTION)
    subscription = Subscription.objects.get()
    assert (subscription.external_id, subscription.status, subscription.visitor_id) == (SUBSCRIPTION, "active", VISITOR)
    assert order.subscription == subscription


def test_the_visitor_of_subscription_data_metadata_reaches_every_invoice():
    (change,) = [invoice_from(payload("invoice.paid")["data"]["object"])]
    assert change.order.visitor_ref == VISITOR  # parent.subscription_details.metadata


def test_a_trial_invoice_is_no_sale_and_the_first_paid_invoice_credits_the_signup_visitor(connection):
    trial_end = payload("invoice.paid")["data"]["object"]["created"] + 14 * 86400
    trial = invoice_event(
        total=0, subtotal=0, total_excluding_tax=0, amount_due=0, amount_paid=0, total_taxes=[], id="in_trial0001"
    )
    first_paid = invoice_event(
        id="in_trialpaid0001",
        billing_reason="subscription_cycle",
        created=trial_end,
        status_transitions={"finalized_at": trial_end + 3600, "paid_at": trial_end + 3605, "voided_at": None},
    )
    statuses = deliver(
        connection,
        payload("checkout.session.completed", payment_status="no_payment_required"),
        payload("customer.subscription.created", status="trialing", metadata={}),
        trial,
        first_paid,
    )

    assert statuses == ["processed", "processed", "ignored", "processed"]
    order = Order.objects.get()
    assert (order.external_id, order.amount_minor, order.status) == ("in_trialpaid0001", 4900, "paid")
    assert (order.visitor_id, order.matched_by) == (VISITOR, MatchedBy.SUBSCRIPTION)


def test_a_renewal_credits_the_original_visitor_through_the_subscription(connection):
    renewed_at = payload("invoice.paid")["data"]["object"]["created"] + 30 * 86400
    renewal = invoice_event(
        id="in_renewal0001",
        billing_reason="subscription_cycle",
        created=renewed_at,
        status_transitions={"finalized_at": renewed_at + 3600, "paid_at": renewed_at + 3602, "voided_at": None},
    )
    upgrade = invoice_event(
        id="in_upgrade0001", billing_reason="subscription_update", total=1176, total_excluding_tax=980
    )
    deliver(connection, payload("checkout.session.completed"), invoice_event(), renewal, upgrade)

    orders = {order.external_id: order for order in Order.objects.all()}
    assert {key: orders[key].kind for key in orders} == {
        INVOICE: OrderKind.SUBSCRIPTION_CREATE,
        "in_renewal0001": OrderKind.RENEWAL,
        "in_upgrade0001": OrderKind.RENEWAL,  # a proration is revenue of the subscription
    }
    assert {(o.visitor_id, o.matched_by) for o in orders.values()} == {(VISITOR, MatchedBy.SUBSCRIPTION)}
    assert orders["in_upgrade0001"].amount_minor == 980
    assert {o.subscription_id for o in orders.values()} == {Subscription.objects.get().pk}


def test_a_refund_is_booked_net_of_tax_on_the_invoice_its_payment_paid(connection, fake):
    deliver(connection, payload("invoice.paid"), payload("refund.created"))  # 29.40 of 58.80 (incl. 9.80 VAT)

    refund = Refund.objects.get()
    assert (refund.external_id, refund.order_external_id, refund.amount_minor) == (
        "re_3QyZa8LkdIwHu7ix0Pq1Rs2T",
        INVOICE,
        2450,  # 2940 * 4900 / 5880: the refund's share of the tax stays out
    )
    order = Order.objects.get()
    assert (order.refunded_minor, order.status) == (2450, "partially_refunded")
    assert any("payment%5Bpayment_intent%5D=" + PAYMENT_INTENT in path for path in fake.requests)


def test_a_refund_before_its_invoice_attaches_when_the_invoice_lands(connection):
    deliver(connection, payload("refund.created", amount=5880), payload("invoice.paid"))
    assert (Order.objects.get().status, Order.objects.get().refunded_minor) == ("refunded", 4900)


def test_a_failed_refund_takes_nothing_back(connection):
    deliver(connection, payload("invoice.paid"), payload("refund.failed"))
    assert (Refund.objects.get().status, Order.objects.get().refunded_minor) == ("failed", 0)


@pytest.mark.parametrize(("outcome", "refunded"), [("lost", 4900), ("won", 0), ("warning_closed", 0)])
def test_a_lost_dispute_subtracts_like_a_refund_and_a_won_one_does_not(connection, outcome, refunded):
    deliver(connection, payload("invoice.paid"), payload("charge.dispute.created"))
    assert Order.objects.get().refunded_minor == 0  # open: nothing final yet

    deliver(connection, payload("charge.dispute.closed", status=outcome))

    order = Order.objects.get()
    assert (order.refunded_minor, order.status) == (refunded, "refunded" if refunded else "paid")
    assert Refund.objects.get().external_id == "dp_1QzDsp1LkdIwHu7ixDp0001"


def test_a_dispute_created_after_its_close_arrived_does_not_reopen_it(connection):
    deliver(connection, payload("invoice.paid"), payload("charge.dispute.closed"), payload("charge.dispute.created"))
    assert Order.objects.get().refunded_minor == 4900


def test_a_one_time_checkout_is_keyed_on_its_payment_and_counted_once_paid(connection):
    unpaid = payload("checkout_session_payment", payment_status="unpaid")
    statuses = deliver(connection, unpaid, payload("checkout.session.async_payment_succeeded"))
    deliver(connection, payload("checkout_session_payment"))  # a replay of a paid completion: the same sale

    assert statuses == ["ignored", "processed"]
    order = Order.objects.get()
    assert (order.external_id, order.kind, order.currency) == (
        "pi_3QyOne5LkdIwHu7ix1Ab2Cd3E",
        OrderKind.ONE_TIME,
        "USD",
    )
    assert (order.amount_minor, order.tax_minor) == (2000, 400)  # 25.00 - 5.00 discount, before 4.00 tax
    assert (order.visitor_id, order.matched_by) == (ONE_TIME_VISITOR, MatchedBy.METADATA)


PROMOTION_CODE, COUPON = "promo_1QxSe0LkdIwHu7ixAcme0020", "Z4OV52SU"  # payloads/stripe/discount.json's


def test_an_invoice_exposes_its_discounts_promotion_codes_and_coupons_once_expanded():
    invoice = payload("invoice_paid_discounted")["data"]["object"]
    assert invoice_from(invoice).order.discount_codes == ()  # `di_…` ids only: no partner owns one
    invoice["discounts"] = [discount()]
    assert invoice_from(invoice).order.discount_codes == ("acme20", PROMOTION_CODE.lower(), COUPON.lower())
    invoice["discounts"] = [{**discount(), "promotion_code": None}]  # a coupon applied by the merchant
    assert invoice_from(invoice).order.discount_codes == (COUPON.lower(),)
    assert invoice_from(payload("invoice.paid")["data"]["object"]).order.discount_codes == ()


def test_a_one_time_checkout_exposes_its_promotion_codes_and_coupons():
    entries = [{"coupon": COUPON, "promotion_code": PROMOTION_CODE}]
    data = payload("checkout_session_payment", discounts=entries)["data"]["object"]
    assert session_from(data).order.discount_codes == (PROMOTION_CODE.lower(), COUPON.lower())
    data["total_details"]["breakdown"] = {"discounts": [{"amount": 500, "discount": discount()}], "taxes": []}
    assert session_from(data).order.discount_codes == (PROMOTION_CODE.lower(), COUPON.lower(), "acme20")
    assert session_from(payload("checkout_session_payment")["data"]["object"]).order.discount_codes == ()


def test_an_invoice_delivery_reads_its_discounts_from_the_api_and_one_without_asks_nothing(connection, fake):
    deliver(connection, payload("invoice.paid"))
    assert not any(path.startswith("/v1/invoices") for path in fake.requests)

    invoice = fake.add_discounted_invoice(created=dt.datetime(2026, 9, 3, 14, tzinfo=dt.UTC))
    deliver(connection, as_event("invoice.paid", invoice))
    stored = Order.objects.get(external_id=invoice["id"])
    assert stored.discount_codes == ["acme20", PROMOTION_CODE.lower(), COUPON.lower()]
    assert any("expand%5B%5D=discounts.promotion_code" in path for path in fake.requests)


def test_the_backfill_lists_invoices_with_their_discounts_expanded(fake):
    """Beyond the events' reach the poll reads the invoices themselves: the same codes, from one listing."""
    now = dt.datetime.now(tz=dt.UTC)
    invoice = fake.add_discounted_invoice(created=now - dt.timedelta(days=40))
    creds = ConnectionCredentials(api_token=TOKEN, webhook_secret=SECRET, api_base_url=fake.base_url, options={})
    pages = StripeAdapter(creds, clock=lambda: now).list_changes(since=now - dt.timedelta(days=60))
    listed = {c.order.external_id: c.order for page in pages for c in page.changes if isinstance(c, OrderChange)}
    assert listed[invoice["id"]].discount_codes == ("acme20", PROMOTION_CODE.lower(), COUPON.lower())
    assert not any(path.startswith(f"/v1/invoices/{invoice['id']}") for path in fake.requests)


def test_a_one_time_checkout_with_an_invoice_is_keyed_on_the_invoice():
    data = payload("checkout_session_payment", invoice="in_1QyOneInv0001")["data"]["object"]
    assert session_from(data).order.external_id == "in_1QyOneInv0001"


def test_a_refund_of_a_one_time_payment_finds_its_checkout_session(connection, fake):
    fake.sessions.append(payload("checkout_session_payment")["data"]["object"])
    refund = payload("refund.created", amount=1200, currency="usd", payment_intent="pi_3QyOne5LkdIwHu7ix1Ab2Cd3E")
    deliver(connection, payload("checkout_session_payment"), refund)

    assert (Refund.objects.get().amount_minor, Order.objects.get().refunded_minor) == (1000, 1000)  # 1200 * 2000/2400


def test_the_client_reference_id_stands_in_for_missing_metadata():
    data = payload("checkout_session_payment", metadata={}, client_reference_id="v_fromClientRef0001")["data"]["object"]
    assert session_from(data).order.visitor_ref == "v_fromClientRef0001"


@pytest.fixture
def rates():
    friday = dt.date(2026, 11, 20)
    for currency, rate in {"USD": "1.0832", "JPY": "162.34", "ISK": "148.30"}.items():
        ExchangeRate.objects.create(date=friday, currency=currency, rate=Decimal(rate))


def friday_sale(currency: str, amount: int) -> dict:
    created = int(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC).timestamp())
    total_details = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
    return payload(
        "checkout_session_payment",
        currency=currency,
        amount_subtotal=amount,
        amount_total=amount,
        total_details=total_details,
        created=created,
    )


def test_a_jpy_payment_converts_to_usd_without_a_100x_error(connection, rates):
    deliver(connection, friday_sale("jpy", 16234))  # ¥16,234: Stripe counts yen, not hundredths

    order = Order.objects.get()
    assert (order.currency, order.amount_minor) == ("JPY", 16234)
    assert order.amount_usd_minor == 10832  # ¥16,234 ÷ 162.34 = €100 → $108.32


def test_isk_is_read_in_stripes_hundredths(connection, rates):
    deliver(connection, friday_sale("isk", 1483000))  # ISK 14,830: two decimals at Stripe, none in ISO 4217

    order = Order.objects.get()
    assert (order.currency, order.amount_minor, order.amount_usd_minor) == ("ISK", 14830, 10832)


@pytest.mark.parametrize(
    ("currency", "stripe_amount", "minor"),
    [
        *[("USD", 4410, 4410), ("JPY", 1500, 1500), ("KRW", 50000, 50000), ("KWD", 33300, 33300)],
        *[("BHD", 1250, 1250), ("ISK", 10000, 100), ("MGA", 5000, 500000), ("HUF", 150000, 150000)],
    ],
)
def test_stripe_amounts_in_iso_minor_units(currency, stripe_amount, minor):
    assert to_minor(stripe_amount, currency) == minor


def test_customer_metadata_matches_orders_that_name_no_visitor(connection):
    deliver(connection, invoice_event(), payload("customer.created"))

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by, order.customer.external_id) == (VISITOR, MatchedBy.METADATA, CUSTOMER)


def test_subscription_states_read_the_items_periods_and_the_cancellation(connection):
    deliver(connection, payload("customer.subscription.created"), payload("customer.subscription.updated"))
    subscription = Subscription.objects.get()
    item = payload("customer.subscription.updated")["data"]["object"]["items"]["data"][0]
    assert subscription.current_period_end == dt.datetime.fromtimestamp(item["current_period_end"], tz=dt.UTC)
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)

    deliver(connection, payload("customer.subscription.deleted"), payload("customer.subscription.updated"))
    assert Subscription.objects.get().status == "canceled"  # the late update is older: ignored


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "open"}, None),
        ({"billing_reason": "upcoming"}, "no sale"),
        ({"total": 0}, "for nothing"),
    ],
)
def test_invoices_that_are_no_sale(fields, reason):
    change = invoice_from(payload("invoice.paid", **fields)["data"]["object"])
    if reason is None:
        assert isinstance(change, OrderChange) and change.order.status == "pending"
    else:
        assert isinstance(change, Ignored) and reason in change.reason


def test_a_manual_invoice_is_a_one_time_sale():
    change = invoice_from(payload("invoice.paid", billing_reason="manual", parent=None)["data"]["object"])
    assert (change.order.kind, change.order.subscription_external_id) == (OrderKind.ONE_TIME, "")


def test_setup_mode_sessions_sell_nothing():
    assert isinstance(session_from(payload("checkout_session_payment", mode="setup")["data"]["object"]), Ignored)
