"""Paddle's contract kit: `Paddle-Signature` (5 s either way) and the fake of its REST API."""

import contextlib
import datetime as dt

from tests.integrations import paddle
from tests.integrations.fake_paddle import FakePaddle
from tests.integrations.kits import Kit


@contextlib.contextmanager
def fake_api(token: str, orders: int, since: dt.datetime, *, throttle: bool = False):
    with FakePaddle(token=token) as fake:
        for i in range(orders):
            fake.add_transaction(updated_at=since + dt.timedelta(minutes=i + 1))
        if throttle:
            fake.throttle.add(("transactions", 2))
        # As listed: with their customers (`include=customer`).
        yield fake.base_url, [fake.rendered("transactions", t, {"customer"}) for t in fake.transactions]


@contextlib.contextmanager
def subscription_api(token: str, started: dt.datetime):
    with FakePaddle(token=token) as fake:
        served = fake.add_subscription(started_at=started)
        served["scheduled_change"] = {
            "action": "cancel",
            "effective_at": served["current_billing_period"]["ends_at"],
            "resume_at": None,
        }
        yield fake.base_url, served


@contextlib.contextmanager
def discount_api(token: str, since: dt.datetime):
    with FakePaddle(token=token) as fake:  # a delivery names the discount; the poll lists it, with its code
        yield fake.base_url, fake.add_discounted_transaction(updated_at=since + dt.timedelta(minutes=1))


KIT = Kit(
    secret="pdl_ntfset_01jh2k0a1b2c3d4e5f6g7h8j9k_Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2U",
    order_event=paddle.payload("transaction.completed"),
    expected_order_external_id="txn_01jh2k5zq0w1e2r3t4y5u6i7o8",
    expected_amount_minor=4900,
    sign=paddle.sign,
    signature_headers=("paddle-signature",),
    tolerance=dt.timedelta(seconds=5),
    unused_event_type="payout.paid",
    fake_api=fake_api,
    order_id=lambda data: data["id"],
    native_amount=lambda data: (
        data["currency_code"],
        int(data["details"]["totals"]["subtotal"]) - int(data["details"]["totals"]["discount"]),
    ),
    as_event=lambda data: {**paddle.payload("transaction.completed"), "data": data},
    subscription_api=subscription_api,
    as_subscription_event=lambda data: {**paddle.payload("subscription.updated"), "data": data},
    encode=paddle.encode,
    bad_token_status=403,
    discount_api=discount_api,
    discount_codes=(
        "acme20",
        "dsc_01jgz8a3b4c5d6e7f8g9h0j1k2",
    ),  # `invalid_token`: Paddle refuses a wrong key as it refuses a missing permission
)
