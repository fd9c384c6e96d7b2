"""The overview in real headless Chromium: switching model and processor changes the numbers, the chart
follows the period and the processor, a bad period is an error beside its dates, with no request
leaving our server and no CSP violation."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from attribution.services.conversions import conversion_record
from tests.factories.engine import OrderFactory
from tests.factories.workspaces import MembershipFactory, UserFactory
from trackrev.workspaces.demo import demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # UserFactory's


def channels_table(page) -> list[str]:
    return page.locator("#channels tbody tr").all_inner_texts()


def usd(text: str) -> Decimal:
    return Decimal(text.removeprefix("USD ").replace(",", ""))


def open_page(browser, live_server):
    """A page that may reach only our server, and the CSP violations and foreign requests it saw."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    foreign, csp_violations = [], []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m.text))
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (foreign.append(route.request.url), route.abort())
        ),
    )
    return page, foreign, csp_violations


def log_in(page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#chart-title")


def apply_filters(page) -> None:
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")


def test_overview_switches_model_and_processor(browser, live_server):
    login = demo_seed()
    page, foreign, csp_violations = open_page(browser, live_server)
    log_in(page, live_server, login.email, login.password)
    assert page.inner_text("#chart-title") == "Revenue per day · last 30 days"
    assert page.locator("svg.chart rect.chart-bar").count() == 30
    assert page.locator("text=Top channels · last 30 days").count() == 1
    last_touch = channels_table(page)
    total_all = page.inner_text("[data-testid=total-revenue]")
    assert len(last_touch) >= 6

    page.select_option("#id_model", "linear")
    apply_filters(page)
    assert "model=linear" in page.url
    linear = channels_table(page)
    assert linear != last_touch  # credit moves between channels
    assert page.inner_text("[data-testid=total-revenue]") == total_all  # every model credits all revenue

    page.select_option("#id_processor", "polar")
    apply_filters(page)
    assert "processor=polar" in page.url
    assert page.input_value("#id_model") == "linear"
    # The demo sells through every processor that can be connected (one connection each): Polar, a part.
    polar_total = usd(page.inner_text("[data-testid=total-revenue]"))
    assert 0 < polar_total < usd(total_all)
    assert foreign == [] and csp_violations == []


@pytest.fixture
def member(db):
    """A member of a workspace with three credited sales in November 2025: two inside Nov 1-10, one after."""
    user = UserFactory()
    workspace = MembershipFactory(user=user).workspace
    for processor, day, amount in [("polar", 2, 4900), ("stripe", 5, 2900), ("polar", 20, 10000)]:
        order = OrderFactory(
            workspace=workspace,
            processor=processor,
            amount_minor=amount,
            placed_at=datetime(2025, 11, day, 12, tzinfo=UTC),
        )
        conversion_record(order_id=order.pk)
    return user


def bottom(box: dict) -> float:
    return box["y"] + box["height"]


def custom_period(page, start: str, end: str) -> None:
    page.select_option("#id_range", "custom")
    page.fill("#id_start", start)
    page.fill("#id_end", end)


def test_the_chart_follows_a_custom_period_and_the_processor(browser, live_server, member):
    page, foreign, csp_violations = open_page(browser, live_server)
    log_in(page, live_server, member.email, PASSWORD)
    custom_period(page, "2025-11-01", "2025-11-10")
    apply_filters(page)

    assert page.inner_text("#chart-title") == "Revenue per day · Nov 1, 2025 to Nov 10, 2025"
    assert page.inner_text("#channels-title") == "Top channels · Nov 1, 2025 to Nov 10, 2025"
    tooltips = page.locator("svg.chart g.chart-slot > title").all_text_contents()
    assert len(tooltips) == 10 and page.locator("svg.chart rect.chart-bar").count() == 10
    assert tooltips[:5] == [
        "Nov 1, 2025: USD 0.00 · 0 orders",
        "Nov 2, 2025: USD 49.00 · 1 order",
        "Nov 3, 2025: USD 0.00 · 0 orders",
        "Nov 4, 2025: USD 0.00 · 0 orders",
        "Nov 5, 2025: USD 29.00 · 1 order",
    ]
    assert page.inner_text("[data-testid=chart-total]") == "USD 78.00"  # not the Nov 20 sale
    assert page.inner_text("[data-testid=total-revenue]") == "USD 78.00"  # the table's period is the chart's

    # An empty day's hairline is read by hovering anywhere over its column.
    empty_day = page.locator("svg.chart g.chart-slot").nth(2)
    box = empty_day.locator("rect.chart-hit").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
    assert empty_day.locator("rect.chart-bar").evaluate("bar => getComputedStyle(bar).fill") == "rgb(23, 62, 158)"

    page.select_option("#id_processor", "stripe")
    apply_filters(page)
    tooltips = page.locator("svg.chart g.chart-slot > title").all_text_contents()
    assert tooltips[1] == "Nov 2, 2025: USD 0.00 · 0 orders" and tooltips[4] == "Nov 5, 2025: USD 29.00 · 1 order"
    assert page.inner_text("[data-testid=chart-total]") == "USD 29.00"
    assert page.input_value("#id_start") == "2025-11-01" and page.input_value("#id_end") == "2025-11-10"
    assert foreign == [] and csp_violations == []


def test_a_bad_period_is_an_error_beside_its_dates_keeping_the_input_and_the_layout(browser, live_server, member):
    page, foreign, csp_violations = open_page(browser, live_server)
    log_in(page, live_server, member.email, PASSWORD)
    custom_period(page, "2025-11-10", "2025-11-01")
    controls = ["#id_model", "#id_processor", "#id_range", "#id_start", "#id_end", "#id_group_by"]
    before = {c: page.locator(c).bounding_box() for c in controls}
    apply_filters(page)

    error = page.locator("#id_end_error")
    assert error.inner_text() == "Must be on or after the start date."
    assert page.input_value("#id_start") == "2025-11-10" and page.input_value("#id_end") == "2025-11-01"
    assert page.input_value("#id_range") == "custom"
    # Beside its field: under the field's label, over its input, no wider than it.
    end, message = page.locator("#id_end").bounding_box(), error.bounding_box()
    label = page.locator("label[for=id_end]").bounding_box()
    assert bottom(label) <= message["y"] and bottom(message) <= end["y"]
    assert end["x"] - 1 <= message["x"] and message["x"] + message["width"] <= end["x"] + end["width"] + 1
    # The layout holds: no control moved aside, and those in the field's row still line up at the bottom.
    after = {c: page.locator(c).bounding_box() for c in controls}
    assert {c: round(after[c]["x"]) for c in controls} == {c: round(before[c]["x"]) for c in controls}
    row = [c for c in controls if abs(bottom(before[c]) - bottom(before["#id_end"])) < 3]
    assert len(row) >= 3 and all(abs(bottom(after[c]) - bottom(end)) < 3 for c in row)
    assert page.locator("text=Nothing to show for these filters").is_visible()
    assert page.locator("svg.chart").count() == 0 and page.locator("#channels").count() == 0
    assert foreign == [] and csp_violations == []
