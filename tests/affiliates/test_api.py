"""The affiliates API (CONTRACTS.md §5): Pro only for programs (402 with a clear detail on Free), the
contract's bodies, validation as 400 with field errors, and every object inside the key's workspace."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from affiliates.models import Commission, Partner, Program
from tests.factories.affiliates import CommissionFactory, PartnerFactory, PayoutFactory, ProgramFactory
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

PROGRAM = {
    "name": "Friends of Acme",
    "commission_type": "percent",
    "commission_value": "20",
    "recurring": "months",
    "recurring_months": 12,
    "cookie_days": 60,
    "hold_days": 30,
    "currency": "USD",
    "destination_url": "https://shop.example.com/",
}


def client_for(workspace) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(workspace=workspace, name='t').raw_key}")
    return client


@pytest.fixture
def pro_api(pro):
    return client_for(pro)


def test_a_free_workspace_gets_402_with_a_clear_detail_and_nothing_is_written(api_client):
    response = api_client.post("/api/v1/affiliates/programs/", PROGRAM, format="json")
    assert response.status_code == 402
    assert "Pro plan" in response.json()["detail"]
    assert not Program.objects.exists()


def test_a_pro_workspace_creates_a_program_as_the_contract_says(pro_api, pro):
    response = pro_api.post("/api/v1/affiliates/programs/", {**PROGRAM, "minimum_payout": "50.00"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("prg_") and body["minimum_payout"] == "50.00"
    program = Program.objects.get(workspace=pro)
    assert (program.minimum_payout_minor, program.recurring_months, program.commission_value) == (5000, 12, 20)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"commission_type": "bonus"}, "commission_type"),
        ({"commission_value": "0"}, "commission_value"),
        ({"destination_url": "not a url"}, "destination_url"),
        ({"cookie_days": 0}, "cookie_days"),
        ({"minimum_payout": "10.001"}, "minimum_payout"),
        ({"name": 12}, "name"),
    ],
)
def test_bad_program_input_is_a_400_naming_the_field(pro_api, change, field):
    response = pro_api.post("/api/v1/affiliates/programs/", {**PROGRAM, **change}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Program.objects.exists()


def test_months_without_a_number_of_months_is_refused(pro_api):
    response = pro_api.post("/api/v1/affiliates/programs/", {**PROGRAM, "recurring_months": None}, format="json")
    assert response.status_code == 400 and "recurring_months" in response.json()["detail"]


def test_partners_are_created_with_a_code_and_link(pro_api, pro, mailoutbox, settings, committed):
    program = ProgramFactory(workspace=pro)
    body = {
        "program": program.public_id,
        "email": "Owner@Acme-Blog.example",
        "name": "Acme Blog",
        "payout_method": "paypal",
        "payout_details": {"paypal_email": "pay@acme-blog.example"},
    }
    with committed():
        response = pro_api.post("/api/v1/affiliates/partners/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["code"]) == ("approved", "acme-blog")
    assert created["link"] == f"{settings.TRACKREV_PUBLIC_URL}/r/acme-blog"
    assert Partner.objects.get().email == "owner@acme-blog.example"
    assert len(mailoutbox) == 1 and "/partners/set-password/" in mailoutbox[0].body

    again = pro_api.post("/api/v1/affiliates/partners/", body, format="json")
    assert again.status_code == 409 and "already a partner" in again.json()["detail"]
    no_paypal = pro_api.post(
        "/api/v1/affiliates/partners/", {**body, "email": "b@x.example", "payout_details": {}}, format="json"
    )
    assert no_paypal.status_code == 400 and "PayPal" in no_paypal.json()["detail"]


def test_another_workspaces_objects_are_not_found(pro_api):
    theirs = PartnerFactory(program=ProgramFactory(workspace=WorkspaceFactory(plan="pro")))
    CommissionFactory(partner=theirs)
    payout = PayoutFactory(partner=theirs)
    assert pro_api.get(f"/api/v1/affiliates/programs/{theirs.program.public_id}/").status_code == 404
    assert pro_api.get(f"/api/v1/affiliates/partners/{theirs.public_id}/").status_code == 404
    assert pro_api.get(f"/api/v1/affiliates/payouts/{payout.pk}/export.csv").status_code == 404
    assert pro_api.get("/api/v1/affiliates/commissions/").json()["count"] == 0
    body = {"program": theirs.program.public_id, "email": "a@b.example", "name": "A"}
    assert pro_api.post("/api/v1/affiliates/partners/", body, format="json").status_code == 404


def test_commissions_filter_by_partner_and_status(pro_api, pro):
    partner = PartnerFactory(program=ProgramFactory(workspace=pro))
    CommissionFactory(partner=partner, status="pending")
    CommissionFactory(partner=partner, status="held", reason="Partner suspended.")
    response = pro_api.get(f"/api/v1/affiliates/commissions/?partner={partner.public_id}&status=held")
    (row,) = response.json()["results"]
    assert (row["status"], row["reason"], row["amount"], row["partner"]) == (
        "held",
        "Partner suspended.",
        "9.80",
        partner.public_id,
    )
    assert pro_api.get("/api/v1/affiliates/commissions/?status=bogus").status_code == 400


def test_payouts_are_run_for_an_ended_month_and_export_as_csv(pro_api, pro):
    partner = PartnerFactory(program=ProgramFactory(workspace=pro), payout_details={"instructions": "IBAN DE89"})
    commission = CommissionFactory(partner=partner, status="approved", amount_minor=2500)
    Commission.objects.filter(pk=commission.pk).update(hold_until=dt.datetime(2026, 11, 15, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC), tick=False):
        early = pro_api.post("/api/v1/affiliates/payouts/", {"period": "2026-12"}, format="json")
        bad = pro_api.post("/api/v1/affiliates/payouts/", {"period": "December"}, format="json")
        response = pro_api.post("/api/v1/affiliates/payouts/", {"period": "2026-11"}, format="json")
        repeat = pro_api.post("/api/v1/affiliates/payouts/", {"period": "2026-11"}, format="json")
    assert early.status_code == bad.status_code == 400
    assert response.status_code == 201
    (payout,) = response.json()["payouts"]
    assert (payout["amount"], payout["currency"], payout["method"], payout["status"]) == (
        "25.00",
        "USD",
        "manual",
        "pending",
    )
    assert repeat.json()["payouts"] == response.json()["payouts"]  # nothing created twice

    csv = pro_api.get(f"/api/v1/affiliates/payouts/{payout['id']}/export.csv")
    assert csv["Content-Type"].startswith("text/csv")
    header, line = csv.content.decode().splitlines()
    assert header == "payout,period,partner,email,method,method_details,amount,currency,commissions"
    assert (
        line == f"{payout['id']},2026-11,{partner.name},{partner.email},manual,instructions: IBAN DE89,25.00,USD,"
        f"{commission.pk}"
    )
