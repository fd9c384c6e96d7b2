"""Stripe's contract kit: `Stripe-Signature` (300 s), orders as paid invoices, and the fake of its REST API v1
(the poll reads them as `invoice.paid` events, the repair fetch as invoices)."""

import contextlib
import datetime as dt

from tests.integrations import stripe
from tests.integrations.fake_stripe import FakeStripe
from tests.integrations.kits import Kit


@contextlib.contextmanager
def fake_api(token: str, orders: int, since: dt.datetime, *, throttle: bool = False):
    with FakeStripe(token=token) as fake:
        for i in range(orders):
            fake.add_invoice(created=since + dt.timedelta(minutes=i + 1))
        if throttle:
            fake.throttle.add(("events", 2))
        yield fake.base_url, fake.invoices


@contextlib.contextmanager
def subscription_api(token: str, started: dt.datetime):
    with FakeStripe(token=token) as fake:
        yield fake.base_url, fake.add_subscription(started=started, cancel_at_period_end=True)


@contextlib.contextmanager
def discount_api(token: str, since: dt.datetime):
    with FakeStripe(token=token) as fake:
        yield fake.base_url, fake.add_discounted_invoice(created=since + dt.timedelta(minutes=1))


KIT = Kit(
    secret=stripe.SECRET,
    order_event=stripe.payload("invoice.paid"),
    expected_order_external_id=stripe.INVOICE,
    expected_amount_minor=4900,
    sign=stripe.sign,
    signature_headers=("stripe-signature",),
    tolerance=dt.timedelta(seconds=300),
    unused_event_type="payout.paid",
    fake_api=fake_api,
    order_id=lambda data: data["id"],
    native_amount=lambda data: (data["currency"].upper(), data["total_excluding_tax"]),
    as_event=lambda data: stripe.as_event("invoice.paid", data),
    subscription_api=subscription_api,
    as_subscription_event=lambda data: stripe.as_event("customer.subscription.updated", data),
    encode=stripe.encode,
    discount_api=discount_api,
    # The promotion code's code and id, and its coupon's id.
    discount_codes=("acme20", "promo_1qxse0lkdiwhu7ixacme0020", "z4ov52su"),
)
