"""First-party proxy mode (CONTRACTS.md §3, attribution/pixel/proxy.py): a hit carrying the workspace's
X-TrackRev-Proxy secret is judged by the client IP and host its proxy forwards and is answered with the
trackrev_vid Set-Cookie; any other hit is a direct hit, whatever forwarded headers it carries. Also the
counts the Integrations page shows: hits per mode, new visitors per browser family and cookie keeper."""

import datetime as dt
import importlib
import json
from http.cookies import SimpleCookie

import pytest
import time_machine
from django.apps import apps
from django.template import Context, Template
from django.test import Client, override_settings

from attribution.models import BrowserFamily, Touch, Visitor, VisitorCookie
from attribution.pixel import drops
from attribution.pixel.browsers import browser_family
from attribution.pixel.drops import DropReason
from attribution.pixel.proxy import forwarded_host, forwarded_ip
from attribution.selectors.pixel import (
    CookieRow,
    HitModes,
    pixel_drops_recent,
    pixel_modes_recent,
    visitor_cookies_recent,
)
from tests.attribution.pixel_helpers import CHROME_UA, GOOGLEBOT, VISITOR, hit, post
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.workspaces.models import Workspace
from trackrev.workspaces.usage import usage_month_events

pytestmark = pytest.mark.django_db

PROXY_IP = "10.0.0.5"  # the customer's server, as TrackRev's socket sees it
CLIENT_IP = "198.51.100.20"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
)
SAFARI_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
FIREFOX_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE_UA = CHROME_UA + " Edg/131.0.0.0"


def proxied(
    client,
    body,
    *,
    secret,
    client_ip=CLIENT_IP,
    host="shop.example.com",
    origin="https://shop.example.com",
    ua=CHROME_UA,
):
    """A hit as the customer's proxy forwards it (the recipes' headers)."""
    extra = {"HTTP_USER_AGENT": ua, "REMOTE_ADDR": PROXY_IP, "HTTP_X_FORWARDED_FOR": client_ip}
    if secret is not None:
        extra["HTTP_X_TRACKREV_PROXY"] = secret
    if host is not None:
        extra["HTTP_X_FORWARDED_HOST"] = host
    if origin:
        extra["HTTP_ORIGIN"] = origin
    return client.generic("POST", "/collect", json.dumps(body), content_type="text/plain;charset=UTF-8", **extra)


def set_cookie_headers(response) -> list[str]:
    """The answer's Set-Cookie header values, as Django's WSGI handler sends them."""
    return [morsel.output(header="").strip() for morsel in response.cookies.values()]


def cookie_of(response) -> SimpleCookie:
    """The answer's Set-Cookie headers, parsed back."""
    parsed = SimpleCookie()
    for header in set_cookie_headers(response):
        parsed.load(header)
    return parsed


def site_hit(workspace, **fields) -> dict:
    """A hit of p.js in proxy mode, consent given (`p`), naming the snippet's cookie domain."""
    return hit(workspace, **{"p": 1, "c": ".example.com", **fields})


# The cookie


def test_the_right_secret_gets_the_contract_cookie(client, workspace):
    response = proxied(client, site_hit(workspace), secret=workspace.pixel_proxy_secret)
    assert response.status_code == 204
    [header] = set_cookie_headers(response)
    morsel = cookie_of(response)["trackrev_vid"]
    assert morsel.value == VISITOR
    assert morsel["domain"] == ".example.com"
    assert morsel["path"] == "/"
    assert morsel["max-age"] == "31536000"
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["httponly"]  # p.js reads it back: visitorId() is the server's id
    assert "Max-Age=31536000" in header and "Secure" in header and "SameSite=Lax" in header
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert Touch.objects.get().visitor_id == VISITOR


@pytest.mark.parametrize(
    ("cookie_domain", "host"),
    [
        (".other.dev", "shop.example.com"),  # not the site's: a browser would refuse it
        (".example.com", None),  # the proxy forwarded no host: nothing to check the domain against
        (None, "shop.example.com"),  # the snippet has no data-cookie-domain
    ],
)
def test_the_cookie_is_host_only_unless_the_domain_is_the_sites(client, workspace, cookie_domain, host):
    body = hit(workspace, p=1, **({"c": cookie_domain} if cookie_domain else {}))
    response = proxied(client, body, secret=workspace.pixel_proxy_secret, host=host)
    morsel = cookie_of(response)["trackrev_vid"]
    assert (morsel.value, morsel["domain"], morsel["max-age"]) == (VISITOR, "", "31536000")


def test_the_domain_may_be_the_site_itself(client, workspace):
    response = proxied(client, hit(workspace, p=1, c="Example.COM"), secret=workspace.pixel_proxy_secret)
    assert cookie_of(response)["trackrev_vid"]["domain"] == "example.com"


def test_no_cookie_without_consent(client, workspace):
    """p.js under data-consent="required" sends no `p` before consent: the proxy must not persist the id."""
    response = proxied(client, hit(workspace, c=".example.com"), secret=workspace.pixel_proxy_secret)
    assert response.status_code == 204
    assert "trackrev_vid" not in response.cookies
    assert Touch.objects.exists()  # the hit itself counts, with the in-memory id


def test_consent_asks_only_for_the_cookie(client, workspace):
    response = proxied(client, site_hit(workspace, k="cs"), secret=workspace.pixel_proxy_secret)
    assert response.status_code == 204
    assert cookie_of(response)["trackrev_vid"].value == VISITOR
    assert not Touch.objects.exists()
    assert usage_month_events(workspace_id=workspace.pk) == 0
    assert pixel_modes_recent(workspace_id=workspace.pk).total == 0
    direct = post(client, site_hit(workspace, k="cs"))
    assert direct.status_code == 204 and "trackrev_vid" not in direct.cookies


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1)
def test_the_cookie_is_set_whatever_became_of_the_hit(client, workspace):
    """The proxy vouches for a page of the customer's: a bot, a refused host or the rate limit still
    answers with the visitor's cookie (documented in visitor_cookie_set)."""
    secret = workspace.pixel_proxy_secret
    assert proxied(client, site_hit(workspace), secret=secret).status_code == 204
    limited = proxied(client, site_hit(workspace), secret=secret)
    bot = proxied(client, site_hit(workspace), secret=secret, ua=GOOGLEBOT)
    for response in (limited, bot):
        assert cookie_of(response)["trackrev_vid"].value == VISITOR
    assert limited.status_code == 429


# Hostile values never reach a header


@pytest.mark.parametrize(
    "fields",
    [
        {"c": ".example.com; HttpOnly"},
        {"c": "example.com\r\nSet-Cookie: admin=1"},
        {"c": "exa mple.com"},
        {"c": "-bad-.example.com"},
        {"c": "a" * 300 + ".com"},
        {"c": "exämple.com"},
        {"c": 42},
        {"p": "yes"},
        {"v": VISITOR + "\n"},
        {"v": VISITOR[:20] + ";Domain=evil.test"},
    ],
)
def test_hostile_cookie_domains_and_visitor_ids_are_refused(client, workspace, fields):
    response = proxied(client, site_hit(workspace, **fields), secret=workspace.pixel_proxy_secret)
    assert response.status_code == 400
    assert not response.cookies and "Set-Cookie" not in response
    assert not Touch.objects.exists() and not Visitor.objects.exists()


def test_a_hostile_forwarded_host_is_no_host():
    for value in ("evil.test\r\nX-Injected: 1", "exa mple.com", "[::1]:80", "a" * 300, ".example.com"):
        assert forwarded_host({"HTTP_X_FORWARDED_HOST": value}) == ""
    assert forwarded_host({"HTTP_X_FORWARDED_HOST": "Shop.Example.com:8443, cdn.internal"}) == "shop.example.com"


# Forwarded headers: only from the workspace's proxy


@pytest.mark.parametrize("secret", [None, "", "tps_wrong", "other-workspace"])
def test_without_the_right_secret_a_hit_is_a_direct_hit(client, workspace, secret):
    """Acceptance: forwarded client IP and host are ignored, there is no Set-Cookie, the hit counts as
    direct (or with a wrong secret) and is judged by its socket address and Origin."""
    if secret == "other-workspace":
        secret = WorkspaceFactory().pixel_proxy_secret
    workspace.allowed_domains = ["example.com"]
    workspace.save()
    response = proxied(client, site_hit(workspace), secret=secret, host="evil.test")
    assert response.status_code == 204  # the forwarded host would have been refused
    assert not response.cookies and "Access-Control-Allow-Credentials" not in response
    modes = pixel_modes_recent(workspace_id=workspace.pk)
    assert (modes.direct, modes.wrong_secret, modes.proxy) == ((1, 0, 0) if secret is None else (0, 1, 0))
    assert Visitor.objects.get().cookie == VisitorCookie.SCRIPT


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=2)
def test_the_rate_limit_counts_the_forwarded_client(client, workspace):
    """Two visitors behind one proxy are two addresses; a direct request forging X-Forwarded-For is
    limited by its socket address."""
    secret = workspace.pixel_proxy_secret
    for client_ip in ("198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2"):
        assert proxied(client, site_hit(workspace), secret=secret, client_ip=client_ip).status_code == 204
    assert proxied(client, site_hit(workspace), secret=secret, client_ip="198.51.100.1").status_code == 429
    forged = [proxied(client, hit(workspace), secret=None, client_ip=f"192.0.2.{n}").status_code for n in range(3)]
    assert forged == [204, 204, 429]  # all from PROXY_IP's socket, whatever they claim


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1)
def test_a_proxied_hit_without_a_usable_client_address_counts_the_proxys(client, workspace):
    secret = workspace.pixel_proxy_secret
    assert proxied(client, hit(workspace), secret=secret, client_ip="not-an-ip").status_code == 204
    assert proxied(client, hit(workspace), secret=secret, client_ip="").status_code == 429


def test_forwarded_ip_is_what_the_customers_proxy_wrote():
    def ip(header, own_hops=0):
        return forwarded_ip({"HTTP_X_FORWARDED_FOR": header}, own_hops=own_hops)

    assert ip(CLIENT_IP) == CLIENT_IP  # the recipes set the header to the client's address
    assert ip(f"203.0.113.66, {CLIENT_IP}") == CLIENT_IP  # an appending proxy: what the visitor sent is not read
    assert ip(f"{CLIENT_IP}, {PROXY_IP}", own_hops=1) == CLIENT_IP  # TrackRev's own balancer appended one
    assert ip(" 2001:DB8::1 ") == "2001:db8::1"
    assert ip("") == "" and ip("203.0.113.7:443") == "" and ip(CLIENT_IP, own_hops=1) == ""


def test_the_forwarded_host_is_checked_against_the_allowed_domains(client):
    workspace = WorkspaceFactory(allowed_domains=["example.com"])
    secret = workspace.pixel_proxy_secret
    refused = proxied(client, site_hit(workspace), secret=secret, host="copycat.test", origin=None)
    assert (refused.status_code, refused[drops.HEADER]) == (403, DropReason.DOMAIN)
    assert pixel_drops_recent(workspace_id=workspace.pk).refused_host == "copycat.test"
    # Another site's page posting to the customer's proxy: the proxy vouches for its own host, the
    # browser's Origin still names the page's.
    assert proxied(client, site_hit(workspace), secret=secret, origin="https://copycat.test").status_code == 403
    assert proxied(client, site_hit(workspace), secret=secret).status_code == 204
    assert pixel_modes_recent(workspace_id=workspace.pk) == HitModes(proxy=3, direct=0, wrong_secret=0)


# What the Integrations page counts


def render(workspace, membership=None) -> str:
    return Template("{% load pixel %}{% pixel_setup %}").render(
        Context({"workspace": workspace, "membership": membership})
    )


def test_hits_per_mode_in_the_last_24_hours(client, workspace):
    secret = workspace.pixel_proxy_secret
    with time_machine.travel(dt.datetime(2026, 11, 14, 9, tzinfo=dt.UTC), tick=False):
        proxied(client, site_hit(workspace), secret=secret)  # more than 24 hours before: forgotten
    now = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        for ua in (CHROME_UA, GOOGLEBOT):  # a dropped hit came through the proxy too
            proxied(client, site_hit(workspace), secret=secret, ua=ua)
        post(client, hit(workspace))
        proxied(client, site_hit(workspace), secret="tps_rotated_long_ago")
        proxied(client, site_hit(workspace, k="id", e="a@b.co"), secret=secret)
        assert pixel_modes_recent(workspace_id=workspace.pk) == HitModes(proxy=3, direct=1, wrong_secret=1)
        html = render(workspace)
    assert "Recent hits: <strong>3</strong> through your proxy, <strong>1</strong> direct, " in html
    assert "<strong>1</strong> with a wrong proxy secret (last 24 h)." in html
    assert 'data-hit-mode-hint="wrong-secret"' in html


def test_the_page_hints_when_pages_still_load_the_pixel_direct(client, workspace):
    proxied(client, site_hit(workspace), secret=workspace.pixel_proxy_secret)
    post(client, hit(workspace))
    assert 'data-hit-mode-hint="direct"' in render(workspace)
    assert "No hits in the last 24 hours." in render(WorkspaceFactory())


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (IPHONE_UA, BrowserFamily.SAFARI),  # Chrome on iOS is WebKit, under ITP
        (SAFARI_UA, BrowserFamily.SAFARI),
        (CHROME_UA, BrowserFamily.CHROME),
        (EDGE_UA, BrowserFamily.EDGE),
        (FIREFOX_UA, BrowserFamily.FIREFOX),
        ("curl/8.0", BrowserFamily.OTHER),
    ],
)
def test_browser_family(user_agent, family):
    assert browser_family(user_agent) == family


def test_new_visitors_per_browser_and_cookie_keeper(client, workspace):
    secret = workspace.pixel_proxy_secret
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=31)):
        post(client, hit(workspace, v="o" * 32), ua=SAFARI_UA)  # first seen before the window
    proxied(client, site_hit(workspace, v="a" * 32), secret=secret, ua=IPHONE_UA)
    proxied(client, site_hit(workspace, v="b" * 32), secret=secret, ua=FIREFOX_UA)
    proxied(client, hit(workspace, v="c" * 32), secret=secret, ua=SAFARI_UA)  # no consent: no cookie kept
    post(client, hit(workspace, v="d" * 32), ua=SAFARI_UA)
    post(client, hit(workspace, v="e" * 32), ua=CHROME_UA)
    post(client, hit(workspace, v="a" * 32), ua=CHROME_UA)  # seen again: its first arrival stands
    Visitor.objects.create(workspace=workspace, visitor_id="f" * 32, created_at=dt.datetime.now(dt.UTC))  # imported
    cookies = visitor_cookies_recent(workspace_id=workspace.pk)
    assert cookies.rows == (
        CookieRow(BrowserFamily.SAFARI, proxy=1, script=2),
        CookieRow(BrowserFamily.CHROME, proxy=0, script=1),
        CookieRow(BrowserFamily.FIREFOX, proxy=1, script=0),
    )
    assert (cookies.total, cookies.at_risk, cookies.at_risk_percent) == (5, 2, 40)
    html = render(workspace)
    assert '<tr data-browser="safari"><th scope="row">Safari and iOS browsers</th>' in html
    assert "<strong>2</strong> of 5 new visitors (40%) use Safari or an iOS browser" in html
    assert "No new visitor recorded" in render(WorkspaceFactory())


# The secret: API, page, rotation


def test_the_api_shows_the_proxy_secret(api_client, workspace):
    body = api_client.get("/api/v1/workspace/").json()
    assert body["pixel_proxy_secret"] == workspace.pixel_proxy_secret
    assert workspace.pixel_proxy_secret.startswith("tps_") and len(workspace.pixel_proxy_secret) == 36


def test_every_workspace_gets_its_own_secret_also_when_migrated():
    migration = importlib.import_module("trackrev.workspaces.migrations.0004_workspace_pixel_proxy_secret")
    first, second = WorkspaceFactory(), WorkspaceFactory()
    assert first.pixel_proxy_secret != second.pixel_proxy_secret
    Workspace.objects.update(pixel_proxy_secret="tps_same")  # what AddField leaves on existing rows
    migration.distinct_secrets(apps, None)
    secrets = set(Workspace.objects.values_list("pixel_proxy_secret", flat=True))
    assert len(secrets) == 2 and "tps_same" not in secrets


def test_members_see_the_secret_and_owners_rotate_it(owner_client, workspace, django_capture_on_commit_callbacks):
    old = workspace.pixel_proxy_secret
    page = owner_client.get("/app/integrations/").content.decode()
    assert f"data-proxy-secret>{old}</pre>" in page and ">Rotate</button>" in page
    client = Client()  # a visitor's browser, through the proxy
    assert proxied(client, site_hit(workspace), secret=old).cookies  # warms the pixel's cached configuration
    with django_capture_on_commit_callbacks(execute=True):  # the commit tells the pixel's cache
        response = owner_client.post("/app/pixel/proxy-secret/")
    assert response.status_code == 302 and response["Location"] == "/app/integrations/#pixel-proxy"
    workspace.refresh_from_db()
    assert workspace.pixel_proxy_secret not in (old, "") and workspace.pixel_proxy_secret.startswith("tps_")
    assert not proxied(client, site_hit(workspace), secret=old).cookies  # the old one is a wrong secret now
    assert proxied(client, site_hit(workspace), secret=workspace.pixel_proxy_secret).cookies
    assert pixel_modes_recent(workspace_id=workspace.pk).wrong_secret == 1


def test_viewers_see_the_secret_but_cannot_rotate_it(client, workspace):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    client.force_login(viewer)
    page = client.get("/app/integrations/").content.decode()
    assert workspace.pixel_proxy_secret in page and ">Rotate</button>" not in page
    assert client.post("/app/pixel/proxy-secret/").status_code == 403
    assert Workspace.objects.get(pk=workspace.pk).pixel_proxy_secret == workspace.pixel_proxy_secret
