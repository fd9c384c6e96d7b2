"""The referral rule and the program's policies (issue 14 acceptance): renewals pay for `lifetime`, stop
after N months for `months`, never for `one_time`; a discount code refers without a click; self-referrals
and unverified identities are held with their reasons."""

import datetime as dt

import pytest
import time_machine

from affiliates.models import Commission
from affiliates.services.commissions import commissions_mature
from affiliates.services.partners import partner_set_status
from tests.affiliates.scenario import PLACED, SUBSCRIPTION_ID, deliver, land, polar_order, sale
from tests.attribution.pixel_helpers import hit, post
from tests.factories.affiliates import DiscountCodeFactory, PartnerFactory

pytestmark = pytest.mark.django_db

CUSTOMER_EMAIL = "jana@example.com"  # the reference order's customer


def signup_and_renewals(client, connection, committed, broker, months: list[int]) -> None:
    """A visitor lands through the partner's link, subscribes, and renews after each of `months`."""
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    first = polar_order(billing_reason="subscription_create", subscription_id=SUBSCRIPTION_ID)
    deliver(connection, first, committed, broker, at=PLACED)
    for month in months:
        placed = PLACED + dt.timedelta(days=31 * month)
        renewal = polar_order(
            order_id=f"renewal-{month}",
            placed=placed,
            amount=2900,
            billing_reason="subscription_cycle",
            subscription_id=SUBSCRIPTION_ID,
        )
        deliver(connection, renewal, committed, broker, at=placed)


def renewal_commissions() -> dict[str, int]:
    rows = Commission.objects.filter(order__external_id__startswith="renewal-")
    return dict(rows.values_list("order__external_id", "amount_minor"))


@pytest.mark.parametrize(
    ("recurring", "months", "paid_renewals"),
    [
        ("lifetime", None, {"renewal-1": 580, "renewal-2": 580, "renewal-6": 580}),
        ("months", 3, {"renewal-1": 580, "renewal-2": 580}),
        ("one_time", None, {}),
    ],
)
def test_renewals_follow_the_recurring_policy(
    client, connection, program, partner, committed, broker, recurring, months, paid_renewals
):
    program.recurring, program.recurring_months = recurring, months
    program.save()
    signup_and_renewals(client, connection, committed, broker, months=[1, 2, 6])
    assert sale().amount_minor == 882  # the signup itself always earns
    assert renewal_commissions() == paid_renewals


def test_an_order_that_used_the_partners_discount_code_is_referred_without_a_click(
    connection, partner, committed, broker
):
    DiscountCodeFactory(partner=partner, code="acme20")
    deliver(connection, polar_order(code="ACME20"), committed, broker, at=PLACED)
    commission = sale()
    assert (commission.partner, commission.referred_by, commission.status) == (partner, "code", "pending")


def test_a_discount_code_nobody_owns_refers_nothing(connection, partner, committed, broker):
    deliver(connection, polar_order(code="SPRING10"), committed, broker, at=PLACED)
    assert not Commission.objects.exists()


def test_a_landing_outside_the_cookie_window_refers_nothing(client, connection, program, partner, committed, broker):
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=61), url="https://shop.example.com/?via=acme")
    deliver(connection, polar_order(), committed, broker, at=PLACED)
    assert not Commission.objects.exists()


def test_the_last_partner_touch_before_the_first_order_wins(client, connection, program, partner, committed, broker):
    other = PartnerFactory(program=program, code="beta")
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=5), url="https://shop.example.com/?via=acme")
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=beta")
    deliver(connection, polar_order(), committed, broker, at=PLACED)
    assert sale().partner == other


@pytest.mark.parametrize(
    ("partner_email", "reason"),
    [
        (CUSTOMER_EMAIL, "Self-referral: the customer's email is the partner's."),
        ("sales@example.com", "Self-referral: the customer's email shares the partner's own domain."),
    ],
)
def test_a_self_referral_is_held_with_its_reason(client, connection, program, committed, broker, partner_email, reason):
    PartnerFactory(program=program, code="acme", email=partner_email)
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    deliver(connection, polar_order(), committed, broker, at=PLACED)
    assert (sale().status, sale().reason) == ("held", reason)


def test_a_colleague_on_a_public_mail_domain_is_not_a_self_referral(client, connection, program, committed, broker):
    PartnerFactory(program=program, code="acme", email="someone@gmail.com")
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    body = polar_order()
    body["data"]["customer"]["email"] = "jana@gmail.com"
    deliver(connection, body, committed, broker, at=PLACED)
    assert sale().status == "pending"


def test_the_partners_own_browser_is_a_self_referral(client, connection, partner, committed, broker):
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    assert post(client, hit(connection.workspace, k="id", e=partner.email)).status_code == 204
    deliver(connection, polar_order(), committed, broker, at=PLACED)
    assert (sale().status, sale().reason) == ("held", "Self-referral: the buyer's browser is the partner's own.")


def test_an_order_matched_only_through_a_browser_identify_is_held_as_unverified(
    client, connection, partner, committed, broker
):
    """The checkout lost the visitor id; the buyer's email was bound by a browser (anyone can do that)."""
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    assert post(client, hit(connection.workspace, k="id", e=CUSTOMER_EMAIL)).status_code == 204
    deliver(connection, polar_order(visitor=""), committed, broker, at=PLACED)
    commission = sale()
    assert commission.status == "held"
    assert commission.reason == "Unverified identity: the buyer was matched only through an email a browser bound."


def test_a_discount_code_named_only_by_a_later_state_of_the_first_order_refers_it_and_its_renewals(
    connection, partner, committed, broker
):
    """Nothing about the buyer's match or credits changes, so attribution tells nobody: the hourly pass reads
    the ledger and derives the first order (and with it the renewal) again."""
    DiscountCodeFactory(partner=partner, code="acme20")
    first = polar_order(billing_reason="subscription_create", subscription_id=SUBSCRIPTION_ID)
    deliver(connection, first, committed, broker, at=PLACED)
    renewal_at = PLACED + dt.timedelta(days=31)
    renewal = polar_order(
        order_id="renewal-1",
        placed=renewal_at,
        amount=2900,
        billing_reason="subscription_cycle",
        subscription_id=SUBSCRIPTION_ID,
    )
    deliver(connection, renewal, committed, broker, at=renewal_at)
    assert not Commission.objects.exists()

    later = renewal_at + dt.timedelta(hours=1)
    named = polar_order(
        billing_reason="subscription_create", subscription_id=SUBSCRIPTION_ID, code="ACME20", modified=later
    )
    deliver(connection, named, committed, broker, at=later)
    with time_machine.travel(later + dt.timedelta(minutes=30), tick=False):
        commissions_mature()
    assert sale().referred_by == "code"
    assert renewal_commissions() == {"renewal-1": 580}


def test_suspending_a_partner_holds_their_unpaid_commissions_and_reactivating_releases_them(
    client, connection, partner, committed, broker
):
    land(client, connection.workspace, at=PLACED - dt.timedelta(days=1), url="https://shop.example.com/?via=acme")
    deliver(connection, polar_order(), committed, broker, at=PLACED)
    with time_machine.travel(PLACED + dt.timedelta(days=1), tick=False):
        partner_set_status(partner=partner, status="suspended")
        assert (sale().status, sale().reason) == ("held", "Partner suspended.")
        partner_set_status(partner=partner, status="approved")
    assert (sale().status, sale().reason) == ("pending", "")
