"""Acceptance (issue 16): a customer's site served by a real nginx running the Integrations page's own
nginx recipe in front of TrackRev's live server, opened in Chromium. The visitor cookie must come from
the customer's origin, in a Set-Cookie header with a year's lifetime, and hold the id `visitorId()`
returns.

Over http: Chromium treats http://localhost as a secure context and keeps `Secure` cookies there."""

import time

import pytest
from django.db import connections

from attribution.selectors.pixel_proxy import pixel_proxy_values
from tests.attribution.pixel_helpers import CHROME_UA
from tests.attribution.proxy_helpers import nginx_location, nginx_serving, recipe_code
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories.workspaces import WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = "<!doctype html><html><head><title>Shop</title>\n{snippet}\n</head><body><h1>Shop</h1></body></html>"
ONE_YEAR = 31536000


@pytest.fixture
def customer_site(live_server, settings, nginx_bin, tmp_path):
    """(workspace, origin): the customer's site at http://localhost:PORT, its `/` a page with the
    proxy-mode snippet, its `/_tr/` the rendered recipe forwarding to TrackRev (whose public URL, and
    so the recipe's upstream, is the live server)."""
    settings.TRACKREV_PUBLIC_URL = live_server.url
    workspace = WorkspaceFactory(allowed_domains=["localhost"])
    root = tmp_path / "site"
    root.mkdir()
    with nginx_serving(nginx_bin, tmp_path, nginx_location(recipe_code(workspace, "nginx")), root) as port:
        origin = f"http://localhost:{port}"
        values = pixel_proxy_values(workspace=workspace)
        # The snippet says https://<site>; this site is served over http on a port.
        snippet = values.snippet.replace(f"https://{values.site_host}", origin)
        (root / "index.html").write_text(PAGE.format(snippet=snippet))
        yield workspace, origin


@pytest.fixture
def context(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as tests/conftest.py's `browser`
    with sync_playwright() as playwright:
        # A visitor's browser does not report automation (navigator.webdriver), Playwright's would.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--disable-blink-features=AutomationControlled"]
        )
        context = chromium.new_context(user_agent=CHROME_UA)
        yield context
        context.close()
        chromium.close()
        connections.close_all()


def _attributes(set_cookie: str) -> tuple[str, str, dict[str, str]]:
    pair, *attributes = [part.strip() for part in set_cookie.split(";")]
    name, value = pair.split("=", 1)
    return name, value, {k.lower(): v for k, _, v in (a.partition("=") for a in attributes)}


def _visit(page, origin: str):
    """Open the site and return the answer to its first hit, which went to the site's own /_tr/collect."""
    with page.expect_response(lambda r: r.url == f"{origin}/_tr/collect", timeout=15_000) as answered:
        page.goto(f"{origin}/")
    return answered.value


def test_visitor_cookie_is_set_by_the_customers_origin_for_a_year(customer_site, context):
    _workspace, origin = customer_site
    page = context.new_page()

    response = _visit(page, origin)

    assert response.status == 204, response.all_headers()
    name, value, attributes = _attributes(response.header_value("set-cookie") or "")
    assert name == "trackrev_vid"
    assert attributes["max-age"] == str(ONE_YEAR)
    assert attributes["path"] == "/"
    assert attributes["samesite"].lower() == "lax"
    assert "secure" in attributes
    assert attributes["domain"] == ".localhost"  # the snippet's data-cookie-domain
    visitor_id = page.evaluate("trackrev.visitorId()")
    assert value == visitor_id

    [cookie] = [c for c in context.cookies() if c["name"] == "trackrev_vid"]
    assert cookie["value"] == visitor_id and cookie["secure"] and cookie["sameSite"] == "Lax"
    # A year from the server's answer; p.js's own write (400 days) would have replaced it.
    assert abs(cookie["expires"] - (time.time() + ONE_YEAR)) < 3600

    again = _visit(page, origin)
    assert _attributes(again.header_value("set-cookie") or "")[1] == visitor_id
    assert page.evaluate("trackrev.visitorId()") == visitor_id
