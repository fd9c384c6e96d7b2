"""The commission engine end to end (issue 14 acceptance): a partner link, a browser landing through the
real pixel, a purchase through Polar's webhook, and what follows: pending, approved after the hold, paid
by a payout, reversed by a refund before payout, clawed back after it, never counted twice."""

import datetime as dt

import pytest
import time_machine
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from affiliates.models import Click, Commission
from affiliates.services.commissions import commissions_mature
from affiliates.services.payouts import payout_mark_paid, payouts_create
from attribution.models import Touch
from attribution.services.pixel import LandingHit, touches_record
from integrations.models import Order
from tests.affiliates.scenario import (
    ORDER_ID,
    PLACED,
    SUBSCRIPTION_ID,
    VISITOR,
    deliver,
    land,
    polar_order,
    polar_refund,
    sale,
)
from tests.attribution.pixel_helpers import CHROME_UA
from tests.factories.workspaces import MembershipFactory
from tests.integrations.fake_polar import FakePolar
from tests.integrations.polar import iso, payload
from tests.integrations.reconciling import reconcile_at
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db


def referred(client, connection, committed, broker, **order):
    """The partner's link clicked, the shop landed on with `via`, then the purchase's webhook."""
    with time_machine.travel(PLACED - dt.timedelta(days=2), tick=False):
        response = client.get("/r/acme", HTTP_USER_AGENT=CHROME_UA, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=2), url=response["Location"])
    deliver(connection, polar_order(**order), committed, broker, at=PLACED + dt.timedelta(minutes=1))


def test_a_partner_link_lands_with_via_and_counts_one_click_per_ip_and_hour(client, partner):
    first = client.get("/r/acme", HTTP_USER_AGENT=CHROME_UA, REMOTE_ADDR="198.51.100.4")
    again = client.get("/r/acme", HTTP_USER_AGENT=CHROME_UA, REMOTE_ADDR="198.51.100.4")
    client.get("/r/acme", HTTP_USER_AGENT="Googlebot/2.1 (+http://www.google.com/bot.html)")
    client.get("/r/acme", HTTP_USER_AGENT=CHROME_UA, REMOTE_ADDR="198.51.100.5")

    assert first.status_code == again.status_code == 302
    assert first["Location"] == "https://shop.example.com/?via=acme"
    assert Click.objects.filter(partner=partner).count() == 2  # the repeat and the crawler do not count
    assert client.get("/r/nobody", HTTP_USER_AGENT=CHROME_UA).status_code == 404


def test_the_pixel_makes_a_via_landing_an_affiliates_touch_for_that_partner(client, partner):
    land(client, partner.workspace, at=PLACED, url="https://shop.example.com/pricing?via=acme")
    touch = Touch.objects.get()
    assert (touch.channel, touch.channel_group, touch.partner_code) == ("Acme Blog", "Affiliates", "acme")


def test_referred_purchase_is_pending_then_approved_then_paid_and_a_later_refund_is_clawed_back(
    client, connection, partner, committed, broker
):
    referred(client, connection, committed, broker)
    commission = sale()
    assert (commission.partner, commission.status, commission.amount_minor) == (partner, "pending", 882)  # 20 %
    assert commission.referred_by == "link"

    with time_machine.travel(PLACED + dt.timedelta(days=29), tick=False):
        commissions_mature()
    assert sale().status == "pending"
    with time_machine.travel(PLACED + dt.timedelta(days=31), tick=False):
        commissions_mature()
    assert sale().status == "approved"

    with time_machine.travel(dt.datetime(2026, 11, 1, 6, 5, tzinfo=dt.UTC), tick=False):
        (payout,) = payouts_create(workspace=connection.workspace, period=dt.date(2026, 10, 1))  # approved Oct 3
        payout_mark_paid(payout=payout)
    assert (payout.amount_minor, sale().status) == (882, "paid")

    # A second purchase of the same customer in November, then the September order is refunded in full.
    later = dt.datetime(2026, 11, 5, 9, tzinfo=dt.UTC)
    deliver(connection, polar_order(order_id="ord-nov", placed=later, amount=9800), committed, broker, at=later)
    refund_at = dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC)
    deliver(connection, polar_refund(refund_id="rf-1", amount=4410, at=refund_at), committed, broker, at=refund_at)
    clawback = Commission.objects.get(kind="clawback")
    assert (clawback.amount_minor, clawback.status, sale().status) == (-882, "approved", "paid")

    with time_machine.travel(dt.datetime(2026, 12, 1, 6, 5, tzinfo=dt.UTC), tick=False):
        assert payouts_create(workspace=connection.workspace, period=dt.date(2026, 11, 1)) == []  # carried forward
    with time_machine.travel(dt.datetime(2027, 1, 1, 6, 5, tzinfo=dt.UTC), tick=False):
        commissions_mature()
        (january,) = payouts_create(workspace=connection.workspace, period=dt.date(2026, 12, 1))
    assert january.amount_minor == 1960 - 882  # December's approval less the clawback
    assert set(january.commissions.values_list("kind", flat=True)) == {"sale", "clawback"}


@pytest.mark.parametrize(("refunded", "expected"), [(4410, (0, "reversed")), (1470, (588, "pending"))])
def test_a_refund_before_payout_reverses_the_commission_in_proportion(
    client, connection, partner, committed, broker, refunded, expected
):
    referred(client, connection, committed, broker)
    at = PLACED + dt.timedelta(days=5)
    deliver(connection, polar_refund(refund_id="rf-1", amount=refunded, at=at), committed, broker, at=at)
    assert (sale().amount_minor, sale().status) == expected
    assert sale().full_minor == 882


def test_a_subscription_revoked_inside_the_hold_reverses_its_pending_commission(
    client, connection, partner, committed, broker
):
    referred(
        client, connection, committed, broker, billing_reason="subscription_create", subscription_id=SUBSCRIPTION_ID
    )
    revoked_at = PLACED + dt.timedelta(days=10)
    body = polar_subscription_revoked(at=revoked_at)
    deliver(connection, body, committed, broker, at=revoked_at)
    with time_machine.travel(revoked_at + dt.timedelta(hours=1), tick=False):
        commissions_mature()
    assert (sale().status, sale().amount_minor, sale().reason) == (
        "reversed",
        0,
        "Subscription canceled inside the hold period.",
    )


def polar_subscription_revoked(*, at: dt.datetime) -> dict:
    body = payload(
        "subscription_updated_revoked",
        created_at=iso(PLACED),
        started_at=iso(PLACED),
        modified_at=iso(at),
        canceled_at=iso(at),
        ended_at=iso(at),
        ends_at=iso(at),
    )
    body["data"]["customer"]["metadata"]["trackrev_visitor_id"] = VISITOR
    return body


def test_duplicate_deliveries_and_a_reconcile_of_the_same_order_make_no_second_commission(
    client, connection, partner, committed, broker
):
    referred(client, connection, committed, broker)
    for minutes in (2, 3):
        deliver(connection, polar_order(), committed, broker, at=PLACED + dt.timedelta(minutes=minutes))
    with FakePolar(token=connection.api_token) as fake:
        fake.orders.append(polar_order()["data"])
        connection.api_base_url, connection.reconciled_through = fake.base_url, PLACED - dt.timedelta(hours=1)
        connection.save()
        with committed():
            run = reconcile_at(PLACED + dt.timedelta(hours=1), connection)
        broker.run()
    assert (run.status, run.fetched) == ("succeeded", 1)
    assert Commission.objects.count() == 1
    assert (sale().amount_minor, Order.objects.get(external_id=ORDER_ID).pk) == (882, sale().order_id)


def test_the_order_page_and_api_show_both_truths(client, connection, partner, committed, broker):
    referred(client, connection, committed, broker)
    order = Order.objects.get(external_id=ORDER_ID)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(workspace=connection.workspace, name='t').raw_key}")
    (row,) = api.get("/api/v1/orders/").json()["results"]
    assert row["credits"]["last_touch"] == [{"channel": "Acme Blog", "weight": "1.000000"}]
    assert row["partner"] == {
        "id": partner.public_id,
        "name": "Acme Blog",
        "commission": "8.82",
        "status": "pending",
        "reason": "Last partner link clicked.",
    }
    client.force_login(MembershipFactory(workspace=connection.workspace).user)
    page = client.get(f"/app/orders/{order.pk}/").content.decode()
    assert 'id="partner-credit"' in page and "Acme Blog" in page and "USD 8.82" in page


def test_many_landings_of_one_partner_ask_for_its_name_once(partner):
    """A flush batch or a re-labelling of history classifies many `via` landings with one configuration."""
    hits = [
        LandingHit(visitor_id=f"{n:032x}", url="https://shop.example.com/?via=acme", occurred_at=PLACED)
        for n in range(50)
    ]
    with CaptureQueriesContext(db_connection) as queries:
        assert touches_record(workspace=partner.workspace, hits=hits) == 50
    assert sum('"affiliates_partner"' in q["sql"] for q in queries.captured_queries) == 1
    assert set(Touch.objects.values_list("channel", flat=True)) == {"Acme Blog"}
