"""The workspace's affiliate pages (/app/affiliates/): Pro only, every write through the services,
viewers read-only, other workspaces' ids a 404, the PayPal secret write-only."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from affiliates.models import Commission, DiscountCode, Partner, Payout, PayoutBatch, PayoutSettings, Program
from affiliates.services.payouts import CSV_COLUMNS
from affiliates.services.programs import PRO_REQUIRED
from tests.factories.affiliates import (
    CommissionFactory,
    DiscountCodeFactory,
    PartnerFactory,
    PayoutFactory,
    ProgramFactory,
)
from tests.factories.engine import OrderFactory
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db

PROGRAM = {
    "name": "Friends",
    "commission_type": "percent",
    "commission_value": "20",
    "recurring": "one_time",
    "recurring_months": "",
    "cookie_days": "60",
    "hold_days": "30",
    "minimum_payout": "50.00",
    "currency": "usd",
    "destination_url": "https://shop.example.com/",
    "applications_open": "on",
    "terms": "Be nice.",
    "reverse_on_cancel": "on",
}


@pytest.fixture
def pro(workspace):
    workspace.plan = "pro"
    workspace.save(update_fields=["plan"])
    return workspace


@pytest.fixture
def program(pro):
    return ProgramFactory(workspace=pro, name="Friends")


@pytest.fixture
def viewer_client(client, workspace):
    client.force_login(MembershipFactory(workspace=workspace, role="viewer").user)
    return client


def referred(partner, *, days_ago: int, **order):
    """A paid order referred through the partner's discount code, and its commission as the engine
    would have written it (the engine derives it again on every review)."""
    code = DiscountCodeFactory(partner=partner).code
    placed = timezone.now() - dt.timedelta(days=days_ago)
    paid = OrderFactory(workspace=partner.workspace, placed_at=placed, discount_codes=[code], **order)
    return CommissionFactory(partner=partner, order=paid, referred_by="code", hold_until=placed + dt.timedelta(30))


# Plan


def test_a_free_workspace_sees_the_upgrade_note_and_cannot_create_a_program(owner_client):
    page = owner_client.get("/app/affiliates/").content.decode()
    assert PRO_REQUIRED in page and "Create program" not in page
    assert PRO_REQUIRED in owner_client.get("/app/affiliates/programs/new/").content.decode()

    response = owner_client.post("/app/affiliates/programs/new/", PROGRAM, follow=True)

    assert PRO_REQUIRED in response.content.decode()
    assert not Program.objects.exists()


# Programs


def test_pro_creates_a_program_with_money_in_minor_units(owner_client, pro):
    response = owner_client.post("/app/affiliates/programs/new/", PROGRAM)

    program = Program.objects.get(workspace=pro)
    assert response.status_code == 302 and response.url == f"/app/affiliates/programs/{program.pk}/"
    assert program.minimum_payout_minor == 5000 and program.currency == "USD"
    assert program.commission_value == Decimal("20") and program.applications_open
    index = owner_client.get("/app/affiliates/").content.decode()
    assert "Friends" in index and f"/partners/apply/{program.public_id}/" in index


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"recurring": "months", "recurring_months": ""}, "recurring_months"),
        ({"minimum_payout": "50.001"}, "USD amounts have 2 decimal places at most."),
        ({"commission_value": "0"}, "Ensure this value is greater than or equal to 0.01."),
        ({"destination_url": "not a url"}, "Enter a valid URL."),
    ],
)
def test_bad_program_input_shows_its_error_and_writes_nothing(owner_client, pro, change, error):
    response = owner_client.post("/app/affiliates/programs/new/", PROGRAM | change)

    assert response.status_code == 400 and error in response.content.decode()
    assert not Program.objects.exists()


def test_zero_decimal_currencies_store_whole_units(owner_client, pro):
    owner_client.post("/app/affiliates/programs/new/", PROGRAM | {"currency": "JPY", "minimum_payout": "5000"})

    assert Program.objects.get().minimum_payout_minor == 5000


def test_editing_a_program_shows_and_stores_the_minimum_in_the_currencys_units(owner_client, program):
    program.minimum_payout_minor = 2500
    program.save()
    assert 'value="25.00"' in owner_client.get(f"/app/affiliates/programs/{program.pk}/edit/").content.decode()

    owner_client.post(
        f"/app/affiliates/programs/{program.pk}/edit/", PROGRAM | {"name": "Renamed", "minimum_payout": "75.5"}
    )

    program.refresh_from_db()
    assert (program.name, program.minimum_payout_minor) == ("Renamed", 7550)


# Partners


def test_adding_a_partner_approves_and_emails_them(
    owner_client, program, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            f"/app/affiliates/programs/{program.pk}/",
            {"name": "Ada Lovelace", "email": "ada@blog.example", "code": "", "payout_method": "paypal"}
            | {"paypal_email": "ada@paypal.example", "stripe_account": "", "instructions": ""},
        )

    assert response.status_code == 302
    partner = Partner.objects.get(program=program)
    assert (partner.status, partner.code, partner.payout_details) == (
        "approved",
        "ada-lovelace",
        {"paypal_email": "ada@paypal.example"},
    )
    assert [m.to for m in mailoutbox] == [["ada@blog.example"]]
    page = owner_client.get(f"/app/affiliates/programs/{program.pk}/").content.decode()
    assert "Ada Lovelace" in page and "/r/ada-lovelace" in page


def test_a_partner_the_service_refuses_is_an_error_on_the_form(owner_client, program):
    PartnerFactory(program=program, code="taken")

    response = owner_client.post(
        f"/app/affiliates/programs/{program.pk}/",
        {"name": "Bo", "email": "bo@example.com", "code": "taken", "payout_method": "paypal", "paypal_email": ""},
    )

    assert response.status_code == 400
    assert "PayPal payouts need the partner&#x27;s PayPal email" in response.content.decode()
    assert Partner.objects.count() == 1


@pytest.mark.parametrize(
    ("was", "to", "now"),
    [
        ("pending", "approved", "approved"),
        ("pending", "rejected", "rejected"),
        ("approved", "suspended", "suspended"),
        ("suspended", "approved", "approved"),
        ("rejected", "suspended", "rejected"),  # refused
        ("suspended", "rejected", "suspended"),  # refused
    ],
)
def test_status_moves_go_through_the_service(owner_client, program, was, to, now):
    partner = PartnerFactory(program=program, status=was)

    response = owner_client.post(f"/app/affiliates/partners/{partner.pk}/status/", {"status": to}, follow=True)

    partner.refresh_from_db()
    assert partner.status == now
    if was == now:
        assert "cannot become" in response.content.decode()


def test_the_program_page_offers_the_moves_of_each_status(owner_client, program):
    pending = PartnerFactory(program=program, status="pending", application_note="My newsletter")
    PartnerFactory(program=program, status="approved")

    page = owner_client.get(f"/app/affiliates/programs/{program.pk}/").content.decode()

    applications = page.split('id="applications"', 1)[1].split("<h2>Partners</h2>", 1)[0]
    assert "My newsletter" in applications and f"/app/affiliates/partners/{pending.pk}/status/" in applications
    assert ">Approve</button>" in applications and ">Reject</button>" in applications
    assert ">Suspend</button>" in page.split("<h2>Partners</h2>", 1)[1]


def test_a_discount_code_is_added_and_a_duplicate_refused(owner_client, program):
    partner = PartnerFactory(program=program)

    owner_client.post(f"/app/affiliates/partners/{partner.pk}/codes/", {"code": "SAVE10"})
    response = owner_client.post(f"/app/affiliates/partners/{partner.pk}/codes/", {"code": "save10"}, follow=True)

    assert list(DiscountCode.objects.values_list("partner", "code")) == [(partner.pk, "save10")]
    assert "already belongs to a partner" in response.content.decode()


# Commissions


def test_commissions_list_filters_and_links_the_order(owner_client, program):
    first, second = PartnerFactory(program=program), PartnerFactory(program=program)
    mine = referred(first, days_ago=2)
    referred(second, days_ago=2)

    page = owner_client.get(f"/app/affiliates/commissions/?partner={first.pk}").content.decode()

    assert f"/app/orders/{mine.order_id}/" in page and mine.order.external_id in page
    assert "USD 9.80" in page and second.name not in page.split('id="commissions"', 1)[1]


def test_approve_early_and_reject_change_the_status_through_the_engine(owner_client, program):
    partner = PartnerFactory(program=program)
    early, rejected = referred(partner, days_ago=2), referred(partner, days_ago=2)

    owner_client.post(f"/app/affiliates/commissions/{early.pk}/review/", {"review": "approved_early"})
    owner_client.post(f"/app/affiliates/commissions/{rejected.pk}/review/", {"review": "rejected"})

    early.refresh_from_db()
    rejected.refresh_from_db()
    assert (early.status, early.review) == ("approved", "approved_early")
    assert (rejected.status, rejected.reason) == ("reversed", "Rejected by the workspace.")


def test_a_self_referral_is_held_and_released_by_hand(owner_client, program):
    partner = PartnerFactory(program=program)
    held = referred(partner, days_ago=40, customer_email_digest=email_digest(partner.email))
    owner_client.post(f"/app/affiliates/commissions/{held.pk}/review/", {"review": "held"})
    held.refresh_from_db()
    assert held.status == "held" and held.reason.startswith("Held by the workspace")

    page = owner_client.get("/app/affiliates/commissions/?status=held").content.decode()
    assert ">Release</button>" in page and ">Approve early</button>" not in page

    response = owner_client.post(
        f"/app/affiliates/commissions/{held.pk}/review/", {"review": "released", "back": "status=held"}
    )

    held.refresh_from_db()
    assert (held.status, held.review) == ("approved", "released")
    assert response.url == "/app/affiliates/commissions/?status=held"


def test_a_paid_commission_cannot_be_reviewed(owner_client, program):
    partner = PartnerFactory(program=program)
    paid = referred(partner, days_ago=40)
    Commission.objects.filter(pk=paid.pk).update(status="approved", payout=PayoutFactory(partner=partner))

    response = owner_client.post(f"/app/affiliates/commissions/{paid.pk}/review/", {"review": "rejected"}, follow=True)

    assert "Only an unpaid sale commission can be reviewed." in response.content.decode()
    assert Commission.objects.get(pk=paid.pk).status == "approved"


# Payouts

OCTOBER = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)


def approved_in_october(partner, amount_minor: int) -> Commission:
    commission = CommissionFactory(partner=partner, status="approved", full_minor=amount_minor)
    Commission.objects.filter(pk=commission.pk).update(hold_until=OCTOBER)
    return commission


def test_running_a_past_month_pays_its_approved_commissions_and_exports_them(owner_client, program):
    partner = PartnerFactory(program=program, payout_details={"instructions": "IBAN DE00"})
    approved_in_october(partner, 1250)
    approved_in_october(partner, 3000)
    CommissionFactory(partner=partner, status="pending")  # not yet approved: waits

    response = owner_client.post("/app/affiliates/payouts/run/", {"period": "2026-10"}, follow=True)

    payout = Payout.objects.get()
    assert (payout.partner, payout.amount_minor, payout.method) == (partner, 4250, "manual")
    assert "October 2026: 1 payout." in response.content.decode()
    assert "USD 42.50" in response.content.decode()

    export = owner_client.get("/app/affiliates/payouts/export.csv?period=2026-10")
    assert export["Content-Disposition"] == 'attachment; filename="payouts-2026-10.csv"'
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["partner"], r["amount"], r["method_details"]) for r in rows] == [
        (partner.name, "42.50", "instructions: IBAN DE00")
    ]

    statement = owner_client.get(f"/app/affiliates/payouts/{payout.pk}/statement.csv").content.decode()
    assert statement.splitlines()[-1] == "total,,,,,42.50,USD"


def test_a_month_that_has_not_ended_is_refused(owner_client, program):
    month = f"{timezone.now():%Y-%m}"

    response = owner_client.post("/app/affiliates/payouts/run/", {"period": month}, follow=True)

    assert "A month can be paid out once it has ended." in response.content.decode()
    bad = owner_client.post("/app/affiliates/payouts/run/", {"period": "October"}, follow=True)
    assert "A period is a month, YYYY-MM." in bad.content.decode()


def test_marking_a_manual_payout_paid_pays_its_commissions(owner_client, program):
    partner = PartnerFactory(program=program)
    commission = approved_in_october(partner, 5000)
    owner_client.post("/app/affiliates/payouts/run/", {"period": "2026-10"})
    payout = Payout.objects.get()

    owner_client.post(f"/app/affiliates/payouts/{payout.pk}/paid/")

    payout.refresh_from_db()
    commission.refresh_from_db()
    assert payout.status == "paid" and commission.status == "paid"
    assert "Mark paid" not in owner_client.get("/app/affiliates/payouts/").content.decode()


def test_a_paypal_payout_is_not_marked_paid_by_hand(owner_client, program):
    payout = PayoutFactory(partner=PartnerFactory(program=program, payout_method="paypal"), method="paypal")

    response = owner_client.post(f"/app/affiliates/payouts/{payout.pk}/paid/", follow=True)

    assert "Only manual payouts are marked paid by hand" in response.content.decode()
    assert Payout.objects.get().status == "pending"


def test_the_paypal_secret_is_write_only(owner_client, pro):
    secret = "EJx-very-secret-value"
    form = {"paypal_client_id": "AZclient", "paypal_client_secret": secret, "paypal_mode": "sandbox"}
    owner_client.post("/app/affiliates/payouts/settings/", form)
    owner_client.post("/app/affiliates/payouts/settings/", form | {"paypal_client_secret": ""})  # keeps it

    stored = PayoutSettings.objects.get(workspace=pro)
    assert (stored.paypal_client_id, stored.paypal_client_secret, stored.paypal_mode) == ("AZclient", secret, "sandbox")
    page = owner_client.get("/app/affiliates/payouts/").content.decode()
    assert secret not in page and "AZclient" in page and "A client secret is stored." in page
    assert "Stripe payouts are not available" in page


# Roles and workspaces


def test_viewers_see_the_pages_but_every_post_is_refused(viewer_client, program):
    partner = PartnerFactory(program=program, status="pending")
    commission = referred(partner, days_ago=2)
    payout = PayoutFactory(partner=PartnerFactory(program=program))
    for url in ["/app/affiliates/", f"/app/affiliates/programs/{program.pk}/", "/app/affiliates/commissions/"]:
        assert viewer_client.get(url).status_code == 200
    assert "Run payouts" not in viewer_client.get("/app/affiliates/payouts/").content.decode()

    posts = [
        ("/app/affiliates/programs/new/", PROGRAM),
        (f"/app/affiliates/programs/{program.pk}/edit/", PROGRAM),
        (f"/app/affiliates/programs/{program.pk}/", {"name": "X", "email": "x@example.com"}),
        (f"/app/affiliates/partners/{partner.pk}/status/", {"status": "approved"}),
        (f"/app/affiliates/partners/{partner.pk}/codes/", {"code": "x"}),
        (f"/app/affiliates/commissions/{commission.pk}/review/", {"review": "rejected"}),
        ("/app/affiliates/payouts/run/", {"period": "2026-10"}),
        (f"/app/affiliates/payouts/{payout.pk}/paid/", {}),
        ("/app/affiliates/payouts/settings/", {"paypal_client_id": "x", "paypal_mode": "live"}),
    ]
    assert [viewer_client.post(url, data).status_code for url, data in posts] == [403] * len(posts)
    partner.refresh_from_db()
    assert partner.status == "pending" and not DiscountCode.objects.filter(code="x").exists()


def test_another_workspaces_ids_are_404(owner_client, pro):
    theirs = ProgramFactory(workspace=WorkspaceFactory(plan="pro"))
    partner = PartnerFactory(program=theirs, status="pending")
    commission = CommissionFactory(partner=partner)
    payout = PayoutFactory(partner=partner)

    gets = [
        f"/app/affiliates/programs/{theirs.pk}/",
        f"/app/affiliates/programs/{theirs.pk}/edit/",
        f"/app/affiliates/payouts/{payout.pk}/statement.csv",
    ]
    posts = [
        (f"/app/affiliates/programs/{theirs.pk}/edit/", PROGRAM),
        (f"/app/affiliates/programs/{theirs.pk}/", {"name": "X", "email": "x@example.com"}),
        (f"/app/affiliates/partners/{partner.pk}/status/", {"status": "approved"}),
        (f"/app/affiliates/partners/{partner.pk}/codes/", {"code": "x"}),
        (f"/app/affiliates/commissions/{commission.pk}/review/", {"review": "rejected"}),
        (f"/app/affiliates/payouts/{payout.pk}/paid/", {}),
    ]
    assert [owner_client.get(url).status_code for url in gets] == [404] * len(gets)
    assert [owner_client.post(url, data).status_code for url, data in posts] == [404] * len(posts)
    partner.refresh_from_db()
    assert partner.status == "pending" and Payout.objects.get().status == "pending"
    assert owner_client.get(f"/app/affiliates/commissions/?partner={partner.pk}").status_code == 200
    assert partner.name not in owner_client.get("/app/affiliates/commissions/").content.decode()


def test_a_failed_paypal_batch_is_sent_again_from_the_payouts_page(owner_client, program):
    partner = PartnerFactory(program=program, payout_method="paypal", payout_details={"paypal_email": "a@b.example"})
    payout = PayoutFactory(
        partner=partner, method="paypal", status="failed", error="PayPal: FAILED RECEIVER_UNREGISTERED"
    )
    PayoutBatch.objects.filter(pk=payout.batch_id).update(status="failed")

    page = owner_client.get("/app/affiliates/payouts/").content.decode()
    assert f'action="/app/affiliates/payouts/batches/{payout.batch_id}/retry/"' in page
    response = owner_client.post(f"/app/affiliates/payouts/batches/{payout.batch_id}/retry/", follow=True)

    assert "being sent again" in response.content.decode()
    assert PayoutBatch.objects.get(pk=payout.batch_id).status == "pending"
    other = PayoutFactory(partner=PartnerFactory(program=ProgramFactory(workspace=WorkspaceFactory(plan="pro"))))
    assert owner_client.post(f"/app/affiliates/payouts/batches/{other.batch_id}/retry/").status_code == 404
