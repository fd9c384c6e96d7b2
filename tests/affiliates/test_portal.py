"""The partner portal (`/partners/`) through Django's test client: its own session auth (never a member's),
set-password links that work once, a login throttle, every page with data and empty, and above all that
a partner sees only their own rows."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from affiliates.models import Click, Link, PartnerAccount
from affiliates.portal_access import ACCOUNT_KEY
from affiliates.services.partners import set_password_url
from tests.factories.affiliates import (
    CommissionFactory,
    DiscountCodeFactory,
    PartnerAccountFactory,
    PartnerFactory,
    PayoutFactory,
    ProgramFactory,
)
from tests.factories.engine import T0
from tests.factories.workspaces import UserFactory
from trackrev.common.throttle import MAX_FAILURES

pytestmark = pytest.mark.django_db

PASSWORD = "partner-horse-battery"  # PartnerAccountFactory's
LOGIN = "/partners/"
PAGES = ["dashboard", "links", "commissions", "payouts", "settings"]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the test cache is per process: failures must not leak between tests


def url(name: str, **kwargs) -> str:
    return reverse(f"affiliates_portal:{name}", kwargs=kwargs)


def login(client, email: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"email": email, "password": password}, **extra)


@pytest.fixture
def program():
    return ProgramFactory(name="Acme Partners", destination_url="https://shop.example.com/")


@pytest.fixture
def partner(program):
    return PartnerFactory(program=program, code="alice", account=PartnerAccountFactory(email="alice@partners.example"))


@pytest.fixture
def portal(client, partner):
    assert login(client, partner.email).status_code == 302
    return client


def body(response) -> str:
    return response.content.decode()


# --- Auth ------------------------------------------------------------------------------------------


def test_login_starts_a_portal_session_and_logout_ends_it(client, partner):
    client.get(LOGIN)
    before = client.session.session_key

    response = login(client, "  Alice@Partners.example ")

    assert response.status_code == 302 and response["Location"] == url("dashboard")
    assert client.session.session_key != before  # cycled: a planted session id is worthless
    assert client.session[ACCOUNT_KEY] == partner.account.pk
    assert PartnerAccount.objects.get(pk=partner.account.pk).last_login is not None
    assert client.get(LOGIN)["Location"] == url("dashboard")

    response = client.post(url("logout"))

    assert response["Location"] == LOGIN
    assert ACCOUNT_KEY not in client.session
    assert client.get(url("dashboard"))["Location"] == LOGIN


def test_logout_is_a_post(portal):
    assert portal.get(url("logout")).status_code == 405
    assert portal.get(url("dashboard")).status_code == 200


@pytest.mark.parametrize("email", ["alice@partners.example", "nobody@partners.example"])
def test_a_wrong_password_or_an_unknown_email_gets_one_generic_error(client, partner, email):
    response = login(client, email, "wrong-password-1")

    assert response.status_code == 400
    assert "That email and password do not match a partner account." in body(response)
    assert ACCOUNT_KEY not in client.session


def test_a_pending_application_cannot_log_in_and_is_told_why(client, program):
    pending = PartnerFactory(program=program, status="pending")

    response = login(client, pending.email)

    assert response.status_code == 400
    assert "Your application is still being reviewed" in body(response)
    assert ACCOUNT_KEY not in client.session


def test_a_rejected_only_account_gets_the_generic_error(client, program):
    rejected = PartnerFactory(program=program, status="rejected")

    response = login(client, rejected.email)

    assert "That email and password do not match a partner account." in body(response)
    assert ACCOUNT_KEY not in client.session


def test_a_member_password_opens_no_portal_and_a_portal_session_opens_no_app(client, partner):
    member = UserFactory(email="member@shop.example")  # password "correct-horse-battery"

    assert login(client, member.email, "correct-horse-battery").status_code == 400
    assert login(client, partner.email).status_code == 302
    assert client.get("/app/")["Location"].startswith("/login/")


def test_a_suspended_partner_logs_in_and_is_told_of_the_suspension(client, program):
    suspended = PartnerFactory(program=program, status="suspended")

    assert login(client, suspended.email).status_code == 302
    assert "is suspended" in body(client.get(url("dashboard")))


def test_the_set_password_link_works_once(client, program, settings):
    fresh = PartnerFactory(program=program)
    link = set_password_url(fresh.account).removeprefix(settings.TRACKREV_PUBLIC_URL)

    assert client.get(link).status_code == 200
    weak = client.post(link, {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 400 and "This password is too common." in body(weak)
    differ = client.post(link, {"password1": "a-long-new-secret-7", "password2": "another-one-7"})
    assert differ.status_code == 400 and "The two passwords differ." in body(differ)

    response = client.post(link, {"password1": "a-long-new-secret-7", "password2": "a-long-new-secret-7"})

    assert response["Location"] == LOGIN
    assert login(client, fresh.email, "a-long-new-secret-7").status_code == 302
    spent = client.get(link)
    assert spent.status_code == 400 and "This link is no longer valid" in body(spent)
    again = client.post(link, {"password1": "yet-another-secret-8", "password2": "yet-another-secret-8"})
    assert again.status_code == 400
    assert PartnerAccount.objects.get(pk=fresh.account.pk).check_password("a-long-new-secret-7")


def test_a_tampered_set_password_link_is_refused(client, partner):
    assert client.get(url("set_password", uidb64="MQ", token="nope-nope")).status_code == 400
    assert client.get(url("set_password", uidb64="!!", token="x")).status_code == 400


def test_a_password_change_ends_the_accounts_other_sessions(portal, partner):
    partner.account.set_password("changed-elsewhere-9")
    partner.account.save()

    assert portal.get(url("dashboard"))["Location"] == LOGIN


def test_forgot_mails_a_set_password_link_only_to_an_existing_account_with_one_answer(client, partner, mailoutbox):
    known = client.post(url("forgot"), {"email": "ALICE@partners.example"}, follow=True)
    unknown = client.post(url("forgot"), {"email": "stranger@partners.example"}, follow=True)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@partners.example"]
    sent = re.search(r"http\S+/partners/set-password/\S+/", mailoutbox[0].body).group(0)
    assert client.get(sent[sent.index("/partners/") :]).status_code == 200
    answer = "If a partner account uses that email, we sent it a link to choose a password."
    assert answer in body(known) and answer in body(unknown)
    assert known.redirect_chain == unknown.redirect_chain


def test_failed_logins_are_throttled_per_email_and_ip(client, partner):
    for _ in range(MAX_FAILURES):
        assert login(client, partner.email, "wrong-password-1").status_code == 400

    throttled = login(client, partner.email)  # even the right password, from there, for now

    assert throttled.status_code == 429
    assert "Too many attempts, try again later." in body(throttled)
    assert ACCOUNT_KEY not in client.session
    assert login(Client(), partner.email, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_a_successful_login_clears_the_failures(client, partner):
    for _ in range(MAX_FAILURES - 1):
        login(client, partner.email, "wrong-password-1")
    assert login(client, partner.email).status_code == 302
    client.post(url("logout"))

    assert login(client, partner.email, "wrong-password-1").status_code == 400


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_requests_go_to_the_login_page(client, name):
    assert client.get(url(name))["Location"] == LOGIN


def test_a_statement_needs_a_session_too(client, partner):
    payout = PayoutFactory(partner=partner)

    assert client.get(url("statement", pk=payout.pk))["Location"] == LOGIN


def test_forms_need_their_csrf_token(partner):
    strict = Client(enforce_csrf_checks=True)

    assert login(strict, partner.email).status_code == 403
    page = strict.get(LOGIN)
    token = page.cookies["csrftoken"].value
    assert 'name="csrfmiddlewaretoken"' in body(page)
    assert (
        strict.post(LOGIN, {"email": partner.email, "password": PASSWORD, "csrfmiddlewaretoken": token}).status_code
        == 302
    )


@pytest.mark.parametrize("name", PAGES)
def test_authenticated_pages_are_never_cached(portal, name):
    response = portal.get(url(name))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]


# --- Several programs ------------------------------------------------------------------------------


def test_one_account_switches_between_its_programs(client, partner):
    suspended = PartnerFactory(
        program=ProgramFactory(name="Aardvark Tools"), account=partner.account, status="suspended"
    )
    other = PartnerFactory(program=ProgramFactory(name="Zephyr Apps"), account=partner.account)
    PartnerFactory(program=ProgramFactory(name="Pending Co"), account=partner.account, status="pending")
    login(client, partner.email)

    page = body(client.get(url("dashboard")))

    assert 'id="program-switch"' in page
    assert re.search(f'<option value="{partner.public_id}" selected>Acme Partners', page)  # first approved
    assert "Aardvark Tools" in page and "Zephyr Apps" in page and "Pending Co" not in page

    assert client.post(url("switch"), {"partner": other.public_id})["Location"] == url("dashboard")
    assert re.search(f'<option value="{other.public_id}" selected>Zephyr Apps', body(client.get(url("links"))))
    assert client.post(url("switch"), {"partner": suspended.public_id}).status_code == 302
    assert client.post(url("switch"), {"partner": PartnerFactory().public_id}).status_code == 404


def test_a_single_program_shows_its_name_and_no_switcher(portal):
    page = body(portal.get(url("dashboard")))

    assert 'data-testid="program-name">Acme Partners<' in page
    assert "Partner portal" in page
    assert 'id="program-switch"' not in page


# --- Dashboard -------------------------------------------------------------------------------------


def commission(partner, **kwargs):
    """A commission of `partner` on an order of yesterday whose customer is of gmail.com unless said otherwise."""
    if "order" not in kwargs:
        kwargs.setdefault("order__customer_email_domain", "gmail.com")
        kwargs.setdefault("order__placed_at", timezone.now() - timedelta(days=1))
    return CommissionFactory(partner=partner, **kwargs)


def test_the_dashboard_shows_the_partners_figures(portal, partner):
    first = commission(partner, status="pending", full_minor=980, order__customer_email_digest="d1")
    commission(partner, status="approved", full_minor=2000, order__customer_email_digest="d1")  # the same buyer
    paid = commission(partner, status="paid", full_minor=1500, order__customer_email_digest="d2")
    commission(partner, status="approved", kind="clawback", order=paid.order, full_minor=1500, amount_minor=-500)
    commission(partner, status="reversed", full_minor=900, amount_minor=0, order__customer_email_digest="d3")
    commission(partner, status="held", full_minor=700, order__customer_email_digest="d4")
    for i in range(3):
        Click.objects.create(workspace=partner.workspace, partner=partner, ip_digest=f"ip{i}", hour=T0, occurred_at=T0)
    commission(PartnerFactory(program=partner.program), status="approved", full_minor=99_900)  # another partner's

    page = body(portal.get(url("dashboard")))

    def figure(name):
        return re.search(rf'data-testid="{name}">([^<]*)<', page).group(1)

    assert figure("clicks") == "3"
    assert figure("customers") == "4"  # d1, d2, d3, d4
    assert figure("conversions") == "4"  # sales, the reversed one aside
    assert figure("pending") == "USD 9.80"
    assert figure("approved") == "USD 15.00"  # 20.00 less the 5.00 clawback
    assert figure("paid") == "USD 15.00"
    assert first.order.placed_at.date() == timezone.localdate() - timedelta(
        days=1
    )  # a sale's day, not its commission's
    assert "Commission earnings per day · last 30 days" in page
    assert figure("chart-total") == "USD 46.80"  # 9.80 + 20.00 + 15.00 - 5.00 + 7.00: all but the reversed
    assert page.count('class="chart-bar"') == 30


def test_the_chart_counts_the_last_30_days_only(portal, partner):
    commission(partner, status="paid", full_minor=5000, order__placed_at=timezone.now() - timedelta(days=31))

    page = body(portal.get(url("dashboard")))

    assert 'data-testid="paid">USD 50.00<' in page
    assert "No commissions in the last 30 days" in page


def test_an_empty_dashboard(portal):
    page = body(portal.get(url("dashboard")))

    assert 'data-testid="clicks">0<' in page and 'data-testid="pending">USD 0.00<' in page
    assert "No commissions in the last 30 days" in page and "<svg" not in page


# --- Links & codes ---------------------------------------------------------------------------------


def test_links_show_the_main_link_extra_links_codes_and_the_via_hint(portal, partner, settings):
    Link.objects.create(workspace=partner.workspace, partner=partner, slug="pricing", url="https://shop.example.com/p")
    DiscountCodeFactory(partner=partner, code="alice10")

    page = body(portal.get(url("links")))

    base = settings.TRACKREV_PUBLIC_URL
    assert f'<code id="link-main">{base}/r/alice</code>' in page
    assert f'<code id="link-pricing">{base}/r/alice/pricing</code>' in page
    assert 'data-copy="link-main"' in page and 'data-copy="link-pricing"' in page
    assert "js/copy" in page and "<script>" not in page
    assert "<code>alice10</code>" in page
    assert "?via=alice" in page


def test_an_extra_link_is_created_from_the_form(portal, partner, settings):
    response = portal.post(url("links"), {"slug": "Blog Post", "url": "https://shop.example.com/blog/launch"})

    assert response["Location"] == url("links")
    assert Link.objects.get(partner=partner).slug == "blog-post"
    assert f"{settings.TRACKREV_PUBLIC_URL}/r/alice/blog-post" in body(portal.get(url("links")))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"slug": "x", "url": "https://evil.example.net/"}, "must lead to a page of the program"),
        ({"slug": "---", "url": "https://shop.example.com/a"}, "Give the link a short name"),
        ({"slug": "", "url": "https://shop.example.com/a"}, "This field is required."),
    ],
)
def test_a_refused_link_shows_the_reason_as_a_form_error(portal, partner, data, error):
    response = portal.post(url("links"), data)

    assert response.status_code == 400
    assert error in body(response)
    assert not Link.objects.filter(partner=partner).exists()


def test_a_duplicate_link_name_is_refused(portal, partner):
    portal.post(url("links"), {"slug": "blog", "url": "https://shop.example.com/blog"})

    response = portal.post(url("links"), {"slug": "blog", "url": "https://shop.example.com/other"})

    assert response.status_code == 400 and "You already have a link named" in body(response)


def test_links_without_codes_say_the_program_assigns_them(portal):
    assert "No discount code yet: Acme Partners assigns them." in body(portal.get(url("links")))


# --- Commissions -----------------------------------------------------------------------------------


def customer_cells(page: str) -> list[str]:
    table = page[page.index('<table id="commissions">') : page.index("</table>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)[2] for row in re.findall(r"<tr>(<td.*?)</tr>", table)]


def test_commissions_list_masked_customers_amounts_statuses_and_reasons(portal, partner):
    commission(partner, status="held", full_minor=700, reason="Self-referral suspected.")
    commission(partner, status="approved", full_minor=2000, reason="not shown for approved")
    commission(partner, status="pending", full_minor=980, order__customer_email_domain="", order__placed_at=T0)

    page = body(portal.get(url("commissions")))

    assert sorted(customer_cells(page)) == ["•••", "•••@gmail.com", "•••@gmail.com"]
    assert "USD 7.00" in page and "USD 20.00" in page and "USD 9.80" in page
    assert "Self-referral suspected." in page and "not shown for approved" not in page
    assert "Nov 1, 2026, 12:00 UTC" in page  # the order's placed_at


def test_commissions_filter_by_status(portal, partner):
    commission(partner, status="held", full_minor=700, reason="Self-referral suspected.")
    commission(partner, status="approved", full_minor=2000)

    page = body(portal.get(url("commissions"), {"status": "held"}))

    assert "USD 7.00" in page and "USD 20.00" not in page
    assert "No commission with this status." in body(portal.get(url("commissions"), {"status": "paid"}))
    assert "USD 20.00" in body(portal.get(url("commissions"), {"status": "bogus"}))  # all, on a bad filter


def test_commissions_are_paginated(portal, partner):
    for _ in range(26):
        commission(partner)

    first, second = portal.get(url("commissions")), portal.get(url("commissions"), {"page": 2})

    assert len(customer_cells(body(first))) == 25 and "Page 1 of 2" in body(first)
    assert len(customer_cells(body(second))) == 1
    filtered = body(portal.get(url("commissions"), {"status": "pending"}))
    assert 'href="?status=pending&amp;page=2"' in filtered  # the next page keeps the filter


def test_no_commission_yet(portal):
    assert "No commission yet" in body(portal.get(url("commissions")))


# --- Payouts and statements ------------------------------------------------------------------------


def test_payouts_list_and_the_statement_csv_has_the_rows_and_total(portal, partner):
    payout = PayoutFactory(partner=partner, amount_minor=2480, reference="PAYOUT-ITEM-7", status="paid")
    first = commission(partner, status="paid", full_minor=2000, payout=payout, order__placed_at=T0)
    second = commission(partner, status="paid", full_minor=980, payout=payout, order__placed_at=T0 + timedelta(days=1))
    claw = commission(
        partner,
        status="paid",
        kind="clawback",
        full_minor=500,
        amount_minor=-500,
        payout=payout,
        order=first.order,
    )
    commission(partner, status="approved", full_minor=4000)  # not in this payout

    page = body(portal.get(url("payouts")))
    response = portal.get(url("statement", pk=payout.pk))

    assert "November 2026" in page and "USD 24.80" in page and "PAYOUT-ITEM-7" in page
    assert url("statement", pk=payout.pk) in page
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["commission", "kind", "order", "placed_at", "customer", "amount", "currency"]
    assert [(r[0], r[4], r[5]) for r in rows[1:-1]] == [
        (str(first.pk), "•••@gmail.com", "20.00"),
        (str(claw.pk), "•••@gmail.com", "-5.00"),
        (str(second.pk), "•••@gmail.com", "9.80"),
    ]
    assert rows[-1] == ["total", "", "", "", "", "24.80", "USD"]


def test_no_payout_yet(portal):
    assert "No payout yet" in body(portal.get(url("payouts")))


# --- Payout settings -------------------------------------------------------------------------------


def test_payout_settings_save_paypal_and_manual(portal, partner):
    response = portal.post(url("settings"), {"method": "paypal", "paypal_email": "alice@pay.example"})

    assert response["Location"] == url("settings")
    partner.refresh_from_db()
    assert (partner.payout_method, partner.payout_details) == ("paypal", {"paypal_email": "alice@pay.example"})
    assert 'value="alice@pay.example"' in body(portal.get(url("settings")))

    portal.post(url("settings"), {"method": "manual", "instructions": "IBAN DE00 1234"})
    partner.refresh_from_db()
    assert (partner.payout_method, partner.payout_details) == ("manual", {"instructions": "IBAN DE00 1234"})


def test_a_refused_payout_setting_shows_the_services_message(portal, partner):
    response = portal.post(url("settings"), {"method": "paypal", "paypal_email": ""})

    assert response.status_code == 400
    assert "PayPal payouts need the partner&#x27;s PayPal email" in body(response)
    partner.refresh_from_db()
    assert partner.payout_method == "manual"


def test_stripe_is_offered_only_when_the_operator_configured_it(portal, partner, settings):
    settings.STRIPE_PAYOUTS_API_KEY = ""
    assert 'value="stripe"' not in body(portal.get(url("settings")))
    assert portal.post(url("settings"), {"method": "stripe", "stripe_account": "acct_1"}).status_code == 400

    settings.STRIPE_PAYOUTS_API_KEY = "sk_test_operator"
    assert 'value="stripe"' in body(portal.get(url("settings")))
    bad = portal.post(url("settings"), {"method": "stripe", "stripe_account": "nope"})
    assert bad.status_code == 400 and "connected account id" in body(bad)
    assert portal.post(url("settings"), {"method": "stripe", "stripe_account": "acct_123"}).status_code == 302
    partner.refresh_from_db()
    assert partner.payout_details == {"stripe_account": "acct_123"}


# --- Isolation -------------------------------------------------------------------------------------


@pytest.fixture
def others(partner):
    """Partner B of the same program and partner C of another workspace, each with rows of their own."""
    rows = {}
    for key, other in (
        ("b", PartnerFactory(program=partner.program, code="bob")),
        ("c", PartnerFactory(code="carol")),
    ):
        # October: the factory makes one batch per payout, and A's are November's.
        payout = PayoutFactory(
            partner=other, batch__period=date(2026, 10, 1), amount_minor=77_700, reference=f"REF-{key}"
        )
        commission(
            other, status="paid", full_minor=77_700, payout=payout, order__customer_email_domain=f"{key}-only.example"
        )
        Link.objects.create(
            workspace=other.workspace, partner=other, slug=f"secret-{key}", url="https://shop.example.com/s"
        )
        DiscountCodeFactory(partner=other, code=f"code-{key}")
        rows[key] = {"partner": other, "payout": payout}
    return rows


def test_a_partner_never_sees_another_partners_rows(portal, partner, others):
    commission(partner, status="pending", full_minor=980)
    mine = PayoutFactory(partner=partner, reference="REF-mine")

    commissions = body(portal.get(url("commissions")))
    payouts = body(portal.get(url("payouts")))
    links = body(portal.get(url("links")))
    dashboard = body(portal.get(url("dashboard")))

    assert "•••@gmail.com" in commissions
    for key in ("b", "c"):
        assert f"{key}-only.example" not in commissions
        assert f"REF-{key}" not in payouts and f"/payouts/{others[key]['payout'].pk}/" not in payouts
        assert f"secret-{key}" not in links and f"code-{key}" not in links
        assert portal.get(url("statement", pk=others[key]["payout"].pk)).status_code == 404
    assert "REF-mine" in payouts and portal.get(url("statement", pk=mine.pk)).status_code == 200
    assert "USD 777.00" not in dashboard and 'data-testid="paid">USD 0.00<' in dashboard
    assert "/r/bob" not in links and "/r/carol" not in links


def test_partner_b_sees_none_of_as_rows_either(client, partner, others):
    payout = PayoutFactory(partner=partner)
    commission(partner, status="paid", full_minor=4321, payout=payout, order__customer_email_domain="a-only.example")
    b = others["b"]["partner"]
    login(client, b.email)

    assert "a-only.example" not in body(client.get(url("commissions")))
    assert "b-only.example" in body(client.get(url("commissions")))
    assert client.get(url("statement", pk=payout.pk)).status_code == 404
    assert client.post(url("switch"), {"partner": partner.public_id}).status_code == 404
