"""The affiliate pages in real headless Chromium: an owner approves an application, runs a past month's
payouts and marks one paid; on a 390 px phone no page scrolls sideways (tables scroll in their box)."""

import datetime as dt

import pytest

from affiliates.models import Commission
from tests.factories.affiliates import CommissionFactory, PartnerFactory, ProgramFactory
from tests.factories.workspaces import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # UserFactory's
OCTOBER = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
def program(workspace):
    workspace.plan = "pro"
    workspace.save(update_fields=["plan"])
    return ProgramFactory(workspace=workspace, name="Friends", applications_open=True)


def signed_in(browser, live_server, workspace, width: int = 1280):
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role="owner")
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/")
    return page


def test_an_owner_approves_a_pending_application(browser, live_server, workspace, program):
    applicant = PartnerFactory(program=program, status="pending", name="Ada Lovelace", application_note="My blog")
    page = signed_in(browser, live_server, workspace)
    page.goto(f"{live_server.url}/app/affiliates/")
    page.click(f"[data-program='{program.pk}'] th a")

    row = page.locator(f"#applications [data-partner='{applicant.pk}']")
    assert "My blog" in row.inner_text()
    row.get_by_role("button", name="Approve").click()

    page.wait_for_selector(".flash.success:has-text('Ada Lovelace is now approved.')")
    assert page.locator(f"#partners [data-partner='{applicant.pk}'] [data-status]").inner_text() == "Approved"
    assert page.locator(f"#applications [data-partner='{applicant.pk}']").count() == 0


def test_an_owner_runs_a_past_months_payouts_and_marks_one_paid(browser, live_server, workspace, program):
    partner = PartnerFactory(program=program, name="Grace Hopper")
    earned = [CommissionFactory(partner=partner, status="approved", full_minor=m) for m in (1250, 3000)]
    Commission.objects.filter(pk__in=[c.pk for c in earned]).update(hold_until=OCTOBER)
    page = signed_in(browser, live_server, workspace)
    page.goto(f"{live_server.url}/app/affiliates/payouts/")
    assert "No payouts yet" in page.locator("main").inner_text()

    page.fill("#run input[name=period]", "2026-10")
    page.click("#run button[type=submit]")

    page.wait_for_selector(".flash.success:has-text('October 2026: 1 payout.')")
    row = page.locator("#payouts tbody tr", has_text="Grace Hopper")
    assert "Oct 2026" in row.inner_text() and "USD 42.50" in row.inner_text()
    assert row.locator("[data-status]").inner_text() == "Pending"
    row.get_by_role("button", name="Mark paid").click()

    page.wait_for_selector(".flash.success:has-text('marked paid')")
    row = page.locator("#payouts tbody tr", has_text="Grace Hopper")
    assert row.locator("[data-status]").inner_text().startswith("Paid")
    assert row.get_by_role("button", name="Mark paid").count() == 0
    assert set(Commission.objects.values_list("status", flat=True)) == {"paid"}


def test_no_affiliate_page_scrolls_sideways_on_a_phone(browser, live_server, workspace, program):
    partner = PartnerFactory(program=program, name="A partner with a rather long name", code="a-long-partner-code")
    PartnerFactory(program=program, status="pending", application_note="I write a long newsletter " * 8)
    CommissionFactory(partner=partner, reason="Self-referral: the customer's email is the partner's.")
    page = signed_in(browser, live_server, workspace, width=390)
    urls = [
        "/app/affiliates/",
        "/app/affiliates/programs/new/",
        f"/app/affiliates/programs/{program.pk}/",
        f"/app/affiliates/programs/{program.pk}/edit/",
        "/app/affiliates/commissions/",
        "/app/affiliates/payouts/",
    ]
    wide = {}
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            wide[url] = scroll
    assert wide == {}
