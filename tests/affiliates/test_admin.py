"""The affiliate back office: every model's screens open, its actions go through the services, and the
workspace's PayPal secret is never shown."""

import datetime as dt

import pytest
from django.utils import timezone

from affiliates.models import Click, Commission, Link, Partner, Payout, PayoutBatch, PayoutSettings
from tests.factories.affiliates import (
    CommissionFactory,
    DiscountCodeFactory,
    PartnerFactory,
    PayoutFactory,
    ProgramFactory,
)
from tests.factories.engine import OrderFactory
from tests.factories.workspaces import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "EJx-paypal-secret-never-shown"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows():
    partner = PartnerFactory(payout_details={"paypal_email": "ada@paypal.example"}, payout_method="paypal")
    now = timezone.now()
    Link.objects.create(workspace=partner.workspace, partner=partner, slug="pricing", url="https://shop.example.com/p")
    Click.objects.create(workspace=partner.workspace, partner=partner, ip_digest="d", hour=now, occurred_at=now)
    PayoutSettings.objects.create(workspace=partner.workspace, paypal_client_id="AZclient", paypal_client_secret=SECRET)
    return {
        "program": partner.program,
        "partneraccount": partner.account,
        "partner": partner,
        "link": partner.links.get(),
        "discountcode": DiscountCodeFactory(partner=partner),
        "click": Click.objects.get(),
        "commission": CommissionFactory(partner=partner),
        "payoutsettings": PayoutSettings.objects.get(),
        "payout": (payout := PayoutFactory(partner=partner, method="paypal")),
        "payoutbatch": payout.batch,
    }


MODELS = [
    "program",
    "partneraccount",
    "partner",
    "link",
    "discountcode",
    "click",
    "commission",
    "payoutsettings",
    "payout",
    "payoutbatch",
]


@pytest.mark.parametrize("model", MODELS)
def test_every_affiliate_screen_opens_and_never_shows_the_paypal_secret(staff_client, rows, model):
    changelist = staff_client.get(f"/admin/affiliates/{model}/")
    change = staff_client.get(f"/admin/affiliates/{model}/{rows[model].pk}/change/")

    assert (changelist.status_code, change.status_code) == (200, 200)
    assert SECRET not in changelist.content.decode() + change.content.decode()


def test_the_partner_screen_shows_payout_details_read_only_and_never_the_password(staff_client, rows):
    page = staff_client.get(f"/admin/affiliates/partner/{rows['partner'].pk}/change/").content.decode()
    account = staff_client.get(f"/admin/affiliates/partneraccount/{rows['partneraccount'].pk}/change/")

    assert "ada@paypal.example" in page and 'name="payout_details"' not in page
    assert rows["partneraccount"].password not in account.content.decode()


def _act(client, model: str, action: str, pks) -> str:
    data = {"action": action, "_selected_action": [str(pk) for pk in pks]}
    return client.post(f"/admin/affiliates/{model}/", data, follow=True).content.decode()


def test_partner_actions_move_statuses_and_report_refusals(staff_client):
    program = ProgramFactory()
    pending = PartnerFactory(program=program, status="pending")
    rejected = PartnerFactory(program=program, status="rejected")

    page = _act(staff_client, "partner", "partner_approved", [pending.pk])
    assert Partner.objects.get(pk=pending.pk).status == "approved" and "Approve: 1 done." in page

    _act(staff_client, "partner", "partner_suspended", [pending.pk])
    assert Partner.objects.get(pk=pending.pk).status == "suspended"

    page = _act(staff_client, "partner", "partner_rejected", [pending.pk, rejected.pk])
    assert Partner.objects.get(pk=pending.pk).status == "suspended"
    assert "Reject: 0 done." in page and "cannot become rejected" in page


def test_commission_actions_review_through_the_engine(staff_client):
    partner = PartnerFactory()
    code = DiscountCodeFactory(partner=partner).code
    placed = timezone.now() - dt.timedelta(days=2)
    order = OrderFactory(workspace=partner.workspace, placed_at=placed, discount_codes=[code])
    commission = CommissionFactory(partner=partner, order=order, hold_until=placed + dt.timedelta(days=30))

    _act(staff_client, "commission", "review_held", [commission.pk])
    assert Commission.objects.get(pk=commission.pk).status == "held"
    _act(staff_client, "commission", "review_released", [commission.pk])
    assert Commission.objects.get(pk=commission.pk).status == "pending"
    _act(staff_client, "commission", "review_approved_early", [commission.pk])
    assert Commission.objects.get(pk=commission.pk).status == "approved"
    _act(staff_client, "commission", "review_rejected", [commission.pk])
    assert Commission.objects.get(pk=commission.pk).status == "reversed"


def test_mark_paid_pays_manual_payouts_only(staff_client):
    manual = PayoutFactory()
    commission = CommissionFactory(partner=manual.partner, status="approved", payout=manual)
    paypal = PayoutFactory(partner=PartnerFactory(payout_method="paypal"), method="paypal")

    page = _act(staff_client, "payout", "mark_paid", [manual.pk, paypal.pk])

    assert Payout.objects.get(pk=manual.pk).status == "paid"
    assert Commission.objects.get(pk=commission.pk).status == "paid"
    assert Payout.objects.get(pk=paypal.pk).status == "pending"
    assert "Mark paid: 1 done." in page and "Only manual payouts are marked paid by hand" in page


def test_affiliate_rows_cannot_be_added_or_edited_by_hand(staff_client, rows):
    partner = rows["partner"]
    assert staff_client.get("/admin/affiliates/partner/add/").status_code == 403
    response = staff_client.post(f"/admin/affiliates/partner/{partner.pk}/change/", {"name": "X", "status": "rejected"})

    assert response.status_code == 403 and Partner.objects.get().name == partner.name


def test_send_again_requeues_only_failed_paypal_and_stripe_batches(staff_client):
    failed = PayoutFactory(partner=PartnerFactory(payout_method="paypal"), method="paypal", status="failed")
    PayoutBatch.objects.filter(pk=failed.batch_id).update(status="failed", reference="OLD")
    manual = PayoutFactory()

    page = _act(staff_client, "payoutbatch", "send_again", [failed.batch_id, manual.batch_id])

    batch = PayoutBatch.objects.get(pk=failed.batch_id)
    assert (batch.status, batch.attempts, batch.reference) == ("pending", 1, "")
    assert Payout.objects.get(pk=failed.pk).status == "pending"
    assert "Send again: 1 done." in page and "Only a failed PayPal or Stripe batch" in page
