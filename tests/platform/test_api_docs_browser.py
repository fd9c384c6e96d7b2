import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_with_no_network_but_ours(browser, live_server):
    page = browser.new_page()
    foreign = []
    csp_violations = []
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text)
    )

    def only_ours(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector("text=TrackRev API", timeout=15000)

    assert page.locator("text=/api/v1/workspace/").count() >= 1
    assert foreign == []
    assert csp_violations == []
