"""The affiliate program's outbound webhooks (issue 15 item 1): a commission earned, reversed by a refund
before payout or clawed back after it, and a payout paid, each reach the receiver once, signed."""

import datetime as dt

import pytest
import time_machine
from standardwebhooks import Webhook

from affiliates.services.commissions import commissions_mature
from affiliates.services.payouts import payout_mark_paid, payouts_create
from integrations.services.outbound_webhooks import endpoint_create
from tests.affiliates.scenario import PLACED, deliver, polar_refund, sale
from tests.affiliates.test_commissions import referred

pytestmark = pytest.mark.django_db

EVENTS = ["commission.created", "commission.reversed", "payout.paid"]


@pytest.fixture
def hook(receiver, local_outbound, connection):
    started = receiver()
    _, started.secret = endpoint_create(workspace=connection.workspace, url=started.url, events=EVENTS)
    return started


def told(hook) -> list[dict]:
    """What the receiver got, each verified at the time it was signed."""
    events = []
    for headers, body in hook.requests:
        with time_machine.travel(int(headers["webhook-timestamp"]), tick=False):
            events.append(Webhook(hook.secret).verify(body, headers))
    return events


def test_a_commission_earned_then_refunded_before_payout(client, connection, partner, committed, broker, hook):
    referred(client, connection, committed, broker)
    [created] = told(hook)
    assert created["type"] == "commission.created"
    assert created["data"] | {"commission_id": None} == {
        "commission_id": None,
        "partner": partner.public_id,
        "partner_name": "Acme Blog",
        "order_id": sale().order_id,
        "source": "polar",
        "kind": "sale",
        "amount": "8.82",
        "currency": "USD",
        "status": "pending",
        "reason": "",
        "referred_by": "link",
    }

    at = PLACED + dt.timedelta(days=5)
    deliver(connection, polar_refund(refund_id="rf-1", amount=4410, at=at), committed, broker, at=at)
    assert [e["type"] for e in told(hook)] == ["commission.created", "commission.reversed"]
    assert told(hook)[-1]["data"]["status"] == "reversed"

    with time_machine.travel(PLACED + dt.timedelta(days=40), tick=False):
        commissions_mature()  # re-derives the commission: nothing new to tell
    assert len(hook.requests) == 2


def test_a_payout_paid_and_a_refund_after_it(client, connection, partner, committed, broker, hook):
    referred(client, connection, committed, broker)
    with time_machine.travel(PLACED + dt.timedelta(days=31), tick=False), committed():
        commissions_mature()
    with time_machine.travel(dt.datetime(2026, 11, 1, 6, 5, tzinfo=dt.UTC), tick=False), committed():
        (payout,) = payouts_create(workspace=connection.workspace, period=dt.date(2026, 10, 1))
        payout_mark_paid(payout=payout)
        payout_mark_paid(payout=payout)  # twice by mistake: told once
    broker.run()
    paid = told(hook)[-1]
    assert paid["type"] == "payout.paid"
    assert (paid["data"]["amount"], paid["data"]["period"], paid["data"]["commissions"]) == (
        "8.82",
        "2026-10",
        [sale().pk],
    )

    at = dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC)
    deliver(connection, polar_refund(refund_id="rf-1", amount=4410, at=at), committed, broker, at=at)
    clawback = told(hook)[-1]
    assert (clawback["type"], clawback["data"]["kind"], clawback["data"]["amount"]) == (
        "commission.reversed",
        "clawback",
        "-8.82",
    )
    assert [e["type"] for e in told(hook)] == ["commission.created", "payout.paid", "commission.reversed"]
    assert {e["data"]["source"] for e in told(hook) if e["type"].startswith("commission.")} == {"polar"}
