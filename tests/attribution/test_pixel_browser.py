"""p.js in a real headless Chromium: a page on another origin (http://shop.site.test:PORT, mapped to
127.0.0.1 by the browser) embeds the snippet and talks to TrackRev's live server."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections

from attribution.models import Identity, Touch, Visitor
from attribution.pixel.drops import DropReason
from attribution.public_views import SCRIPT_PATH
from attribution.selectors.pixel import DropCount, pixel_drops_recent
from tests.attribution.pixel_helpers import CHROME_UA
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories.workspaces import WorkspaceFactory
from trackrev.common.emails import email_digest
from trackrev.workspaces.usage import usage_month_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = """<!doctype html><html><head><title>Shop</title>{queue}
<script async src="{api}/p.js" data-workspace="{workspace}" data-cookie-domain=".site.test"{extra}></script>
</head><body><h1>Shop</h1></body></html>"""
QUEUE = """<script>window.trackrev = window.trackrev || {q: []}; trackrev.q.push(["identify", "queued@example.com"]);
</script>"""


VARIANTS = {"consent": ' data-consent="required"', "debug": " data-debug", "debug-unknown": " data-debug"}
UNKNOWN_WORKSPACE = "ws_nosuchworkspace"


class Site:
    """The customer's site: serves /<variant>.html pages embedding the snippet."""

    def __init__(self, api: str, workspace: str):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                variant = self.path.split("?")[0].strip("/").removesuffix(".html")
                html = PAGE.format(
                    api=site.api,
                    workspace=UNKNOWN_WORKSPACE if variant == "debug-unknown" else site.workspace,
                    queue=QUEUE if variant == "queued" else "",
                    extra=VARIANTS.get(variant, ""),
                )
                body = html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.api, self.workspace = api, workspace
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://shop.site.test:{self.port}{path}"


def launch(monkeypatch, *args: str):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.site.test 127.0.0.1", *args]
        )
        yield chromium
        chromium.close()
        connections.close_all()  # as tests/conftest.py's `browser`: let teardown drop the test database


@pytest.fixture
def pixel_browser(monkeypatch):
    # Playwright marks the browser as automated (navigator.webdriver); a visitor's browser is not.
    yield from launch(monkeypatch, "--disable-blink-features=AutomationControlled")


@pytest.fixture
def automated_browser(monkeypatch):
    """Chromium as Playwright drives it: navigator.webdriver is true, as in a founder's test suite."""
    yield from launch(monkeypatch)


@pytest.fixture
def serve(live_server):
    """`serve(workspace)`: the customer's site for that workspace, stopped after the test."""
    sites = []

    def start(workspace) -> Site:
        site = Site(live_server.url, workspace.public_id)
        site.thread.start()
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def workspace_site(serve):
    workspace = WorkspaceFactory(allowed_domains=["site.test"])
    return workspace, serve(workspace)


@pytest.fixture
def page(pixel_browser):
    context = pixel_browser.new_context(user_agent=CHROME_UA)
    yield context.new_page()
    context.close()


def collect(page, action, count=1):
    """Run `action`, then wait until /collect answered `count` hits (events are only dispatched
    inside Playwright calls, so none can slip between the check and the wait)."""
    answered = []

    def on_response(response):
        if "/collect" in response.url:
            answered.append(response.status)

    page.on("response", on_response)
    action()
    while len(answered) < count:
        page.wait_for_event("response", timeout=10_000)
    page.remove_listener("response", on_response)
    assert set(answered) == {204}, answered


def test_cookie_is_set_and_visitor_id_is_stable(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/plain.html")))
    visitor_id = page.evaluate("window.trackrev.visitorId()")
    cookie = next(c for c in page.context.cookies() if c["name"] == "trackrev_vid")
    assert cookie["value"] == visitor_id
    assert cookie["domain"] == ".site.test"
    assert cookie["sameSite"] == "Lax"
    assert cookie["expires"] - time.time() > 390 * 86400  # refreshed to ~400 days
    collect(page, lambda: page.reload())
    assert page.evaluate("window.trackrev.visitorId()") == visitor_id
    touch = Touch.objects.get(workspace=workspace)  # the reload is an internal page view, not a touch
    assert (touch.visitor_id, touch.channel, touch.channel_group) == (visitor_id, "Direct", "Direct")
    assert Visitor.objects.get().visitor_id == visitor_id
    assert usage_month_events(workspace_id=workspace.pk) == 2


def test_newsletter_landing(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/plain.html?utm_source=newsletter&utm_medium=email&utm_campaign=nov")))
    touch = Touch.objects.get(workspace=workspace)
    assert (touch.channel, touch.channel_group, touch.campaign) == ("Newsletter", "Email", "nov")
    assert touch.landing_url.endswith("utm_campaign=nov")


def test_facebook_referrer(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/plain.html"), referer="https://www.facebook.com/"))
    touch = Touch.objects.get(workspace=workspace)
    assert (touch.channel, touch.channel_group) == ("Facebook", "Organic Social")
    assert touch.referrer.startswith("https://www.facebook.com/")


def test_spa_navigations_count_page_views(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/plain.html")))
    collect(page, lambda: page.evaluate("history.pushState({}, '', '/pricing')"))
    assert usage_month_events(workspace_id=workspace.pk) == 2
    page.evaluate("history.replaceState({}, '', '/pricing')")  # same URL: not a new page view
    collect(page, lambda: page.evaluate("history.replaceState({}, '', '/pricing?utm_source=launch')"))
    collect(page, lambda: page.go_back())  # popstate
    assert usage_month_events(workspace_id=workspace.pk) == 4
    # Only the landing and the navigation carrying campaign parameters are touches.
    assert list(Touch.objects.order_by("id").values_list("channel", flat=True)) == ["Direct", "Launch"]


def test_queued_calls_replay(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/queued.html")), count=2)
    identity = Identity.objects.get(workspace=workspace)
    assert identity.email_digest == email_digest("queued@example.com")
    assert identity.visitor_id == page.evaluate("window.trackrev.visitorId()")


def test_identify_binds_the_email(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/plain.html")))
    collect(page, lambda: page.evaluate("window.trackrev.identify('Buyer@Example.com')"))
    identity = Identity.objects.get(workspace=workspace)
    assert identity.visitor_id == page.evaluate("window.trackrev.visitorId()")
    assert identity.email_digest == email_digest("buyer@example.com")


def test_consent_mode_writes_no_cookie_before_consent(workspace_site, page):
    workspace, site = workspace_site
    collect(page, lambda: page.goto(site.url("/consent.html?utm_source=newsletter&utm_medium=email")))
    assert page.context.cookies() == []
    in_memory_id = page.evaluate("window.trackrev.visitorId()")
    assert Touch.objects.get(workspace=workspace).visitor_id == in_memory_id
    page.evaluate("window.trackrev.consent(true)")
    cookie = next(c for c in page.context.cookies() if c["name"] == "trackrev_vid")
    assert cookie["value"] == in_memory_id  # the earlier hits are linked to the persisted id
    collect(page, lambda: page.reload())
    assert page.evaluate("window.trackrev.visitorId()") == in_memory_id


def test_headless_browsers_are_not_counted(workspace_site, pixel_browser):
    workspace, site = workspace_site
    context = pixel_browser.new_context()  # Chromium's own headless user agent
    page = context.new_page()
    collect(page, lambda: page.goto(site.url("/plain.html?utm_source=newsletter")))
    context.close()
    assert not Touch.objects.exists()
    assert usage_month_events(workspace_id=workspace.pk) == 0


def test_cookie_is_secure_on_https(pixel_browser):
    """An https page (served by Playwright's router: no TLS server needed) gets a Secure cookie."""
    context = pixel_browser.new_context(user_agent=CHROME_UA)
    page = context.new_page()
    html = PAGE.format(api="https://t.site.test", workspace="ws_test", queue="", extra="")
    page.route("https://shop.site.test/", lambda route: route.fulfill(content_type="text/html", body=html))
    page.route(
        "https://t.site.test/p.js",
        lambda route: route.fulfill(content_type="application/javascript", body=SCRIPT_PATH.read_text()),
    )
    page.route("https://t.site.test/collect", lambda route: route.fulfill(status=204))
    page.goto("https://shop.site.test/")
    page.wait_for_function("() => window.trackrev && window.trackrev._loaded")
    cookie = next(c for c in context.cookies() if c["name"] == "trackrev_vid")
    assert (cookie["secure"], cookie["sameSite"], cookie["domain"]) == (True, "Lax", ".site.test")
    context.close()


def console(page, action, count=1) -> list[tuple[str, str]]:
    """Run `action`, then wait until p.js has logged `count` lines; returns them as (type, text)."""
    lines = []

    def on_console(message):
        if message.text.startswith("TrackRev:"):
            lines.append((message.type, message.text))

    page.on("console", on_console)
    action()
    while len(lines) < count:
        page.wait_for_event("console", timeout=10_000)
    page.remove_listener("console", on_console)
    return lines


def test_debug_logs_why_an_automated_browser_is_not_counted(workspace_site, automated_browser):
    workspace, site = workspace_site
    page = automated_browser.new_context(user_agent=CHROME_UA).new_page()  # a browser's agent; webdriver on
    url = site.url("/debug.html?utm_source=newsletter")
    assert console(page, lambda: page.goto(url)) == [
        (
            "warning",
            f"TrackRev: page view {url} not counted: automated/headless browser or bot: test in a normal "
            "browser window",
        )
    ]
    page.context.close()
    assert not Touch.objects.exists()
    assert pixel_drops_recent(workspace_id=workspace.pk).rows == (DropCount(DropReason.AUTOMATED, 1),)


def test_debug_logs_a_domain_that_is_not_allowed(serve, page):
    workspace = WorkspaceFactory(allowed_domains=["mysaas.dev"])
    url = serve(workspace).url("/debug.html")
    assert console(page, lambda: page.goto(url)) == [
        (
            "warning",
            f"TrackRev: page view {url} not counted: shop.site.test is not in Allowed domains (TrackRev settings)",
        )
    ]
    drops = pixel_drops_recent(workspace_id=workspace.pk)
    assert (drops.rows, drops.refused_host) == ((DropCount(DropReason.DOMAIN, 1),), "shop.site.test")


def test_debug_logs_an_unknown_workspace(workspace_site, page):
    _, site = workspace_site
    url = site.url("/debug-unknown.html")
    assert console(page, lambda: page.goto(url)) == [
        ("warning", f"TrackRev: page view {url} not counted: no workspace {UNKNOWN_WORKSPACE}")
    ]


def test_debug_logs_counted_hits_and_they_are_recorded(workspace_site, page):
    workspace, site = workspace_site
    requests = []
    page.on("request", lambda request: "/collect" in request.url and requests.append(request.resource_type))
    url = site.url("/debug.html?utm_source=newsletter&utm_medium=email")
    assert console(page, lambda: page.goto(url)) == [("info", f"TrackRev: page view {url} counted")]
    assert console(page, lambda: page.evaluate("trackrev.identify('buyer@example.com')")) == [
        ("info", "TrackRev: identify counted")
    ]
    assert requests == ["fetch", "fetch"]  # data-debug reads the answer
    assert Touch.objects.get(workspace=workspace).channel == "Newsletter"
    assert Identity.objects.filter(workspace=workspace).exists()


def test_without_data_debug_hits_go_by_beacon_and_nothing_is_logged(workspace_site, automated_browser):
    _, site = workspace_site
    page = automated_browser.new_context(user_agent=CHROME_UA).new_page()
    requests, lines = [], []
    page.on("request", lambda request: "/collect" in request.url and requests.append(request.resource_type))
    page.on("console", lambda message: lines.append(message.text))
    collect(page, lambda: page.goto(site.url("/plain.html")))  # dropped (webdriver), answered 204
    page.evaluate("new Promise((done) => setTimeout(done, 0))")  # a task after the answer: a log would be in
    page.context.close()
    assert requests == ["ping"]  # sendBeacon, as always
    assert lines == []
