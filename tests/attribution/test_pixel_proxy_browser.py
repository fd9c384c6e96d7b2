"""p.js in proxy mode, in a real headless Chromium: the customer's site (https://shop.site.test:PORT, a
small local HTTPS server with a certificate of its own) serves the page and forwards `/_tr/*` to
TrackRev's live server as the recipes do, adding X-TrackRev-Proxy, X-Forwarded-For and X-Forwarded-Host.
The page spies on `document.cookie` writes: in proxy mode the script never writes `trackrev_vid`, the
proxied answer's Set-Cookie does."""

import datetime as dt
import ssl
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attribution.models import BrowserFamily, Visitor, VisitorCookie
from attribution.selectors.pixel import pixel_modes_recent
from tests.attribution.pixel_helpers import CHROME_UA
from tests.attribution.test_pixel_browser import collect, pixel_browser  # noqa: F401 (a fixture)
from tests.factories.workspaces import WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before the snippet: every write through document.cookie is recorded, then made.
COOKIE_SPY = """<script>window.cookieWrites = [];
var jar = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
Object.defineProperty(document, 'cookie', {configurable: true, get: function () { return jar.get.call(document); },
  set: function (value) { window.cookieWrites.push(value); jar.set.call(document, value); }});</script>"""
PAGE = """<!doctype html><html><head><title>Shop</title>{spy}
<script async src="/_tr/p.js" data-workspace="{workspace}" data-api="{origin}/_tr" data-cookie-domain=".site.test"
{extra}></script></head><body><h1>Shop</h1></body></html>"""
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


def certificate(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.site.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("shop.site.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


class ProxiedSite:
    """The customer's site: `/*.html` pages, and `/_tr/<path>` forwarded to `{upstream}/<path>` with the
    proxy's headers (`secret` is what it sends as X-TrackRev-Proxy). Like the recipes, it forwards no
    cookie of the site."""

    def __init__(self, *, upstream: str, workspace: str, secret: str, directory):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/_tr/"):
                    return self.forward()
                body = PAGE.format(spy=COOKIE_SPY, workspace=workspace, origin=site.origin, extra="").encode()
                self.answer(200, [("Content-Type", "text/html; charset=utf-8")], body)

            def do_POST(self):
                self.forward()

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = urllib.request.Request(  # noqa: S310 (the live server's http URL)
                    upstream + self.path.removeprefix("/_tr"),
                    data=self.rfile.read(length) if self.command == "POST" else None,
                    method=self.command,
                    headers={
                        name: value
                        for name, value in self.headers.items()
                        if name.lower() in ("user-agent", "content-type", "origin", "referer")
                    }
                    | {
                        "X-TrackRev-Proxy": secret,
                        "X-Forwarded-For": self.client_address[0],
                        "X-Forwarded-Host": self.headers["Host"],
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                        status, headers, body = answer.status, answer.headers.items(), answer.read()
                except urllib.error.HTTPError as error:
                    status, headers, body = error.code, error.headers.items(), error.read()
                site.answers.append((self.path, status, [v for k, v in headers if k.lower() == "set-cookie"]))
                self.answer(status, [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP], body)

            def answer(self, status, headers, body):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.answers: list[tuple[str, int, list[str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate(directory))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://shop.site.test:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def collect_cookies(self) -> list[list[str]]:
        return [cookies for path, _, cookies in self.answers if path.startswith("/_tr/collect")]


@pytest.fixture
def proxied_site(live_server, tmp_path):
    sites = []

    def start(workspace, *, secret: str | None = None) -> ProxiedSite:
        site = ProxiedSite(
            upstream=live_server.url,
            workspace=workspace.public_id,
            secret=workspace.pixel_proxy_secret if secret is None else secret,
            directory=tmp_path,
        )
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def page(pixel_browser):  # noqa: F811 (the imported fixture)
    context = pixel_browser.new_context(user_agent=CHROME_UA, ignore_https_errors=True)  # the site's own certificate
    yield context.new_page()
    context.close()


def vid_writes(page) -> list[str]:
    return [write for write in page.evaluate("window.cookieWrites") if write.startswith("trackrev_vid=")]


def test_the_proxy_sets_the_cookie_and_the_script_never_writes_it(proxied_site, page):
    workspace = WorkspaceFactory(allowed_domains=["site.test"])
    site = proxied_site(workspace)
    collect(page, lambda: page.goto(f"{site.origin}/shop.html?utm_source=newsletter"))
    visitor_id = page.evaluate("window.trackrev.visitorId()")
    [[set_cookie]] = site.collect_cookies()
    assert set_cookie.startswith(f"trackrev_vid={visitor_id};") and "Max-Age=31536000" in set_cookie
    cookie = next(c for c in page.context.cookies() if c["name"] == "trackrev_vid")
    assert (cookie["value"], cookie["domain"], cookie["secure"], cookie["sameSite"]) == (
        visitor_id,
        ".site.test",
        True,
        "Lax",
    )
    assert 364 * 86400 < cookie["expires"] - time.time() <= 365 * 86400
    assert vid_writes(page) == []  # only trackrev_ses, the 30-minute session flag, is the script's
    collect(page, lambda: page.reload())
    assert page.evaluate("window.trackrev.visitorId()") == visitor_id  # read back from the server's cookie
    assert vid_writes(page) == []
    visitor = Visitor.objects.get(workspace=workspace)
    assert (visitor.visitor_id, visitor.cookie, visitor.browser) == (
        visitor_id,
        VisitorCookie.PROXY,
        BrowserFamily.CHROME,
    )
    assert pixel_modes_recent(workspace_id=workspace.pk).proxy == 2


def test_a_proxy_with_a_wrong_secret_falls_back_to_the_scripts_cookie(proxied_site, page):
    workspace = WorkspaceFactory(allowed_domains=["site.test"])
    site = proxied_site(workspace, secret="tps_stale")
    collect(page, lambda: page.goto(f"{site.origin}/shop.html"))
    page.wait_for_function("() => document.cookie.indexOf('trackrev_vid=') >= 0")
    visitor_id = page.evaluate("window.trackrev.visitorId()")
    assert site.collect_cookies() == [[]]  # a direct hit: no Set-Cookie
    assert vid_writes(page)[0].startswith(f"trackrev_vid={visitor_id};")  # kept as without a proxy
    collect(page, lambda: page.reload())
    assert page.evaluate("window.trackrev.visitorId()") == visitor_id
    assert Visitor.objects.get(workspace=workspace).cookie == VisitorCookie.SCRIPT
    assert pixel_modes_recent(workspace_id=workspace.pk).wrong_secret == 2
