"""Lemon Squeezy's contract kit: `X-Signature` (hex HMAC-SHA256 of the body, no time signed) and the fake
of its REST API v1. Deliveries built from served objects carry no custom data, as from a dashboard link:
the REST API never returns it, so webhook and poll map them alike."""

import contextlib
import datetime as dt

from tests.integrations import lemonsqueezy
from tests.integrations.fake_lemonsqueezy import FakeLemonSqueezy
from tests.integrations.kits import Kit


@contextlib.contextmanager
def fake_api(token: str, orders: int, since: dt.datetime, *, throttle: bool = False):
    with FakeLemonSqueezy(token=token) as fake:
        for i in range(orders):
            fake.add_order(created_at=since + dt.timedelta(minutes=i + 1))
        if throttle:
            fake.throttle.add(("orders", 2))
        yield fake.base_url, fake.orders


@contextlib.contextmanager
def subscription_api(token: str, started: dt.datetime):
    with FakeLemonSqueezy(token=token) as fake:
        ends = lemonsqueezy.iso(started + dt.timedelta(days=30))
        yield (
            fake.base_url,
            fake.add_subscription(created_at=started, status="cancelled", cancelled=True, ends_at=ends, renews_at=ends),
        )


def _event(name: str):
    return lambda data: {**lemonsqueezy.payload(name, custom_data={}), "data": data}


KIT = Kit(
    secret="ls-signing-secret-7Qm2vR9t",
    order_event=lemonsqueezy.payload("order_created"),
    expected_order_external_id="4810237",
    expected_amount_minor=4900,
    sign=lemonsqueezy.sign,
    signature_headers=("x-signature",),
    tolerance=None,
    unused_event_type="license_key_created",
    fake_api=fake_api,
    order_id=lambda data: data["id"],
    # As the API states it: the subtotal less its discounts (the mapping reads `total - tax`, the same here).
    native_amount=lambda data: (
        data["attributes"]["currency"],
        data["attributes"]["subtotal"] - data["attributes"]["discount_total"],
    ),
    as_event=_event("order_created"),
    subscription_api=subscription_api,
    as_subscription_event=_event("subscription_cancelled"),
    encode=lemonsqueezy.encode,
)
