"""Polar's contract kit: Standard Webhooks signatures (±5 minutes) and the fake of its REST API v1."""

import contextlib
import datetime as dt

from tests.integrations import polar
from tests.integrations.fake_polar import FakePolar
from tests.integrations.kits import Kit


@contextlib.contextmanager
def fake_api(token: str, orders: int, since: dt.datetime, *, throttle: bool = False):
    with FakePolar(token=token) as fake:
        for i in range(orders):
            fake.add_order(created_at=since + dt.timedelta(minutes=i + 1))
        if throttle:
            fake.throttle.add(("orders", 2))
        yield fake.base_url, fake.orders


@contextlib.contextmanager
def subscription_api(token: str, started: dt.datetime):
    with FakePolar(token=token) as fake:
        yield fake.base_url, fake.add_subscription(started_at=started, cancel_at_period_end=True)


@contextlib.contextmanager
def discount_api(token: str, since: dt.datetime):
    with FakePolar(token=token) as fake:  # the reference order used the code SPRING10
        yield fake.base_url, fake.add_order(created_at=since + dt.timedelta(minutes=1))


KIT = Kit(
    secret="whsec_Kx7Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2Uc7Vq",
    order_event=polar.payload("order_created_purchase"),
    expected_order_external_id="0b6f3c2e-7a41-4d8e-9f1b-2c5a8e9d4f10",
    expected_amount_minor=4410,
    sign=polar.sign,
    signature_headers=("webhook-id", "webhook-timestamp", "webhook-signature"),
    tolerance=dt.timedelta(minutes=5),
    unused_event_type="benefit_grant.created",
    fake_api=fake_api,
    order_id=lambda data: data["id"],
    native_amount=lambda data: (data["currency"].upper(), data["net_amount"]),
    as_event=lambda data: {**polar.payload("order_created_purchase"), "data": data},
    subscription_api=subscription_api,
    as_subscription_event=lambda data: {**polar.payload("subscription_updated_revoked"), "data": data},
    encode=polar.encode,
    discount_api=discount_api,
    discount_codes=("spring10", "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"),
)
