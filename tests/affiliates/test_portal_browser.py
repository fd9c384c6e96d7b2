"""The partner portal in real headless Chromium: a partner logs in, reads their figures, copies their link,
adds one, sees only their own commissions with masked customers, downloads a statement, and on a phone
no page scrolls sideways."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from affiliates.models import Click
from tests.factories.affiliates import (
    CommissionFactory,
    PartnerAccountFactory,
    PartnerFactory,
    PayoutFactory,
    ProgramFactory,
)
from tests.factories.engine import T0

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "partner-horse-battery"  # PartnerAccountFactory's


@pytest.fixture
def alice():
    """Alice's rows, and Bob's in the same program, which her pages must never show."""
    program = ProgramFactory(name="Acme Partners · a long affiliate program name of a shop", applications_open=True)
    alice = PartnerFactory(program=program, code="alice", account=PartnerAccountFactory(email="alice@partners.example"))
    payout = PayoutFactory(partner=alice, amount_minor=2000, reference="PAYOUT-ITEM-1234567890-ABCDEFGHIJ")
    yesterday = timezone.now() - dt.timedelta(days=1)  # in the dashboard's last 30 days
    hers = {"partner": alice, "order__customer_email_domain": "gmail.com", "order__placed_at": yesterday}
    CommissionFactory(**hers, status="paid", full_minor=2000, payout=payout)
    CommissionFactory(**hers, status="pending", full_minor=980)
    CommissionFactory(**hers, status="held", full_minor=700, reason="Self-referral suspected: same email domain.")
    Click.objects.create(workspace=alice.workspace, partner=alice, ip_digest="ip", hour=T0, occurred_at=T0)
    bob = PartnerFactory(program=program, code="bob")
    CommissionFactory(partner=bob, status="approved", full_minor=55_500, order__customer_email_domain="bob.example")
    return alice


def signed_in(browser, live_server, partner, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.csp_violations = []  # what the strict CSP blocked: an inline script or style attribute
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    page.goto(f"{live_server.url}/partners/")
    page.fill("input[name=email]", partner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/partners/dashboard/")
    return page


def test_a_partner_logs_in_copies_a_link_adds_one_and_reads_their_own_rows(browser, live_server, alice):
    page = signed_in(browser, live_server, alice, 1280)

    assert page.locator("header .brand").inner_text() == "Partner portal"
    assert page.get_by_test_id("program-name").inner_text() == alice.program.name
    assert page.get_by_test_id("clicks").inner_text() == "1"
    assert page.get_by_test_id("conversions").inner_text() == "3"
    assert page.get_by_test_id("pending").inner_text() == "USD 9.80"
    assert page.get_by_test_id("paid").inner_text() == "USD 20.00"
    assert page.get_by_test_id("approved").inner_text() == "USD 0.00"  # bob's 555.00 is not hers
    assert page.locator("svg.chart .chart-bar").count() == 30

    page.click("nav >> text=Links & codes")
    page.click('[data-copy="link-main"]')
    page.wait_for_selector('[data-copy-status="link-main"]:has-text("Copied.")')
    assert page.evaluate("navigator.clipboard.readText()").endswith("/r/alice")

    page.fill("input[name=slug]", "pricing")
    page.fill("input[name=url]", "https://shop.example.com/pricing")
    page.click("text=Create link")
    page.wait_for_selector("tr[data-link=pricing]")
    assert page.locator("#link-pricing").inner_text().endswith("/r/alice/pricing")
    page.click('[data-copy="link-pricing"]')
    page.wait_for_selector('[data-copy-status="link-pricing"]:has-text("Copied.")')
    assert page.evaluate("navigator.clipboard.readText()").endswith("/r/alice/pricing")

    page.click("nav >> text=Commissions")
    customers = page.locator("#commissions tbody tr td:nth-child(3)").all_inner_texts()
    assert customers == ["•••@gmail.com"] * 3
    table = page.locator("#commissions").inner_text()
    assert "bob.example" not in table and "555.00" not in table
    assert "Self-referral suspected" in table

    page.click("nav >> text=Payouts")
    with page.expect_download() as download:
        page.click("#payouts a:has-text('CSV')")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[1][4:7] == ["•••@gmail.com", "20.00", "USD"]
    assert rows[-1] == ["total", "", "", "", "", "20.00", "USD"]
    assert download.value.suggested_filename.startswith("statement-")

    page.click("header >> text=Log out")
    page.wait_for_url(f"{live_server.url}/partners/")
    page.goto(f"{live_server.url}/partners/commissions/")
    assert page.url == f"{live_server.url}/partners/"


def test_no_portal_page_scrolls_sideways_on_a_phone(browser, live_server, alice):
    page = signed_in(browser, live_server, alice, 390)
    apply = f"/partners/apply/{alice.program.public_id}/"
    for path in ["dashboard/", "links/", "commissions/", "payouts/", "settings/"]:
        page.goto(f"{live_server.url}/partners/{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.click("header >> text=Log out")
    for path in ["/partners/", "/partners/forgot/", apply]:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    assert page.csp_violations == []
