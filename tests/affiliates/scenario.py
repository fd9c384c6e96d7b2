"""A Pro workspace selling through Polar with a 20 % program, and the steps a real referral takes: a
click on the partner's link, the pixel's landing with `via`, the processor's webhooks."""

import datetime as dt

import time_machine

from affiliates.models import Commission
from tests.attribution.pixel_helpers import hit, post
from tests.factories.integrations import webhook_deliver
from tests.integrations.polar import iso, payload

PLACED = dt.datetime(2026, 9, 3, 14, 22, tzinfo=dt.UTC)  # the reference purchase's creation time
VISITOR = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # an id as p.js makes one; the checkout passes it on
ORDER_ID = "0b6f3c2e-7a41-4d8e-9f1b-2c5a8e9d4f10"
SUBSCRIPTION_ID = "3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f"


def land(client, workspace, *, at: dt.datetime, url: str, visitor: str = VISITOR) -> None:
    """The visitor's browser lands on the shop (p.js's page view)."""
    with time_machine.travel(at, tick=False):
        assert post(client, hit(workspace, v=visitor, u=url)).status_code == 204


def polar_order(
    *,
    order_id: str = ORDER_ID,
    placed: dt.datetime = PLACED,
    amount: int = 4410,
    billing_reason: str = "purchase",
    subscription_id: str | None = None,
    code: str | None = None,
    refunded: int = 0,
    event_type: str = "order.paid",
    modified: dt.datetime | None = None,
    visitor: str = VISITOR,
) -> dict:
    """The reference Polar order as delivered, paid, for `amount` net; with a discount `code` or none."""
    body = payload(
        "order_created_purchase",
        id=order_id,
        created_at=iso(placed),
        modified_at=iso(modified) if modified else None,
        net_amount=amount,
        amount=amount,
        subtotal_amount=amount,
        discount_amount=0,
        refunded_amount=refunded,
        status="partially_refunded" if 0 < refunded < amount else "refunded" if refunded else "paid",
        billing_reason=billing_reason,
        subscription_id=subscription_id,
    )
    body["data"]["customer"]["metadata"]["trackrev_visitor_id"] = visitor
    if code is None:
        body["data"].update(discount=None, discount_id=None)
    else:
        body["data"]["discount"]["code"] = code
    body["type"], body["timestamp"] = event_type, iso(modified or placed)
    return body


def polar_refund(*, refund_id: str, amount: int, at: dt.datetime, order_id: str = ORDER_ID) -> dict:
    return payload("refund_created", id=refund_id, order_id=order_id, amount=amount, created_at=iso(at))


def deliver(connection, body: dict, committed, broker, *, at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        webhook_deliver(connection, body, committed, broker)


def sale(order_external_id: str = ORDER_ID) -> Commission:
    return Commission.objects.get(kind="sale", order__external_id=order_external_id)
