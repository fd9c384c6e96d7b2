"""The demo workspace's overview in real headless Chromium: switching model changes the numbers, the
processor filter keeps the model, with no request leaving our server and no CSP violation."""

import pytest

from trackrev.workspaces.demo import demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def channels_table(page) -> list[str]:
    return page.locator("#channels tbody tr").all_inner_texts()


def test_overview_switches_model_and_processor(browser, live_server):
    login = demo_seed()
    page = browser.new_page()
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

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", login.email)
    page.fill("input[name=password]", login.password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Revenue · last 10 days")
    assert page.locator("svg.chart rect.chart-bar").count() == 10
    assert page.locator("text=Top channels · 30 days").count() == 1
    last_touch = channels_table(page)
    total_all = page.inner_text("[data-testid=total-revenue]")
    assert len(last_touch) >= 6

    page.select_option("#id_model", "linear")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**model=linear**")
    linear = channels_table(page)
    assert linear != last_touch  # credit moves between channels
    assert page.inner_text("[data-testid=total-revenue]") == total_all  # every model credits all revenue

    page.select_option("#id_processor", "polar")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**processor=polar**")
    assert page.input_value("#id_model") == "linear"
    # The demo sells only through the processors that can be connected: today Polar, all of it.
    assert page.inner_text("[data-testid=total-revenue]") == total_all
    assert channels_table(page) == linear
    assert foreign == [] and csp_violations == []
