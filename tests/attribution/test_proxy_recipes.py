"""The first-party proxy recipes (Integrations page): each rendered with the workspace's values, and
each one run as far as this machine can: nginx's passes `nginx -t` (and serves Chromium in
test_pixel_proxy_nginx_browser.py), the Next.js middleware and the Cloudflare Worker run in node
against TrackRev's live server, the Django view is mounted in a URLconf and forwards a real hit."""

import json
import re
import shutil
import subprocess
import sys
import types

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import include, path

from attribution.selectors.pixel_proxy import PLACEHOLDER_SITE, PROXY_PATH, RECIPES
from tests.attribution.pixel_helpers import CHROME_UA, VISITOR, hit
from tests.attribution.proxy_helpers import nginx_check, nginx_config, nginx_location, node_run, recipe_code
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NODE = shutil.which("node")  # on every machine of this project's kind
UPSTREAM = "https://track.example.net"
KEYS = [recipe.key for recipe in RECIPES]
ONE_YEAR = "Max-Age=31536000"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.TRACKREV_PUBLIC_URL = UPSTREAM


@pytest.fixture
def node():
    assert NODE, "node is not installed: the Next.js and Cloudflare recipes run in it"
    return NODE


@pytest.fixture
def site():
    return WorkspaceFactory(allowed_domains=["www.mysaas.dev", "app.mysaas.dev"])


@pytest.fixture
def other():
    return WorkspaceFactory(allowed_domains=["other.example"])


@pytest.mark.parametrize("key", KEYS)
def test_each_recipe_has_this_workspaces_values_only(key, site, other):
    code = recipe_code(site, key)
    assert site.public_id in code
    assert site.pixel_proxy_secret in code
    assert "track.example.net" in code
    assert "www.mysaas.dev" in code
    assert other.public_id not in code and other.pixel_proxy_secret not in code and "other.example" not in code


def test_a_workspace_without_domains_gets_a_placeholder(workspace):
    html = Template("{% load pixel_proxy %}{% pixel_proxy_recipes %}").render(Context({"workspace": workspace}))
    assert "data-proxy-placeholder" in html
    assert f"data-api=&quot;https://{PLACEHOLDER_SITE}/_tr&quot;" in html
    assert workspace.pixel_proxy_secret in html


def test_nginx_recipe_passes_nginx_t(site, nginx_bin, tmp_path):
    location = nginx_location(recipe_code(site, "nginx"))
    assert "proxy_pass https://track.example.net/;" in location
    assert "proxy_set_header Host track.example.net;" in location
    assert f'proxy_set_header X-TrackRev-Proxy "{site.pixel_proxy_secret}";' in location
    config = nginx_config(tmp_path, 8089, location, tmp_path)
    # `nginx -t` resolves the upstream's name: point it at a name this machine knows.
    config.write_text(config.read_text().replace("https://track.example.net/", "https://localhost/"))
    checked = nginx_check(nginx_bin, config)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


# What the node drivers print of an answer.
ANSWER = """const answer = (response) => ({
  status: response.status, type: response.headers.get("content-type"), cookies: response.headers.getSetCookie(),
});
"""

NEXT_RUN = """import trackrevProxy, { config } from "./middleware.mjs";
const [body, ua] = process.argv.slice(2);
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init) => {
  sent.push({ url, method: init.method, headers: Object.fromEntries(new Headers(init.headers)) });
  return realFetch(url, init);
};
const visit = async (url, init) => {
  const request = new Request(url, init);  // what Next.js hands the middleware: a Request with nextUrl
  request.nextUrl = new URL(url);
  return answer(await trackrevProxy(request));
};
const headers = { "Content-Type": "text/plain;charset=UTF-8", "User-Agent": ua, Origin: "https://www.mysaas.dev",
  "X-Forwarded-For": "203.0.113.9, 10.0.0.2", Cookie: "session=private" };
const collect = await visit("https://www.mysaas.dev/_tr/collect", { method: "POST", body, headers });
const script = await visit("https://www.mysaas.dev/_tr/p.js?v=2", { headers });
console.log(JSON.stringify({ matcher: config.matcher, sent, collect, script }));
"""


@pytest.mark.django_db(transaction=True)
def test_nextjs_recipe_forwards_to_trackrev_with_the_secret(site, node, tmp_path, live_server, settings):
    settings.TRACKREV_PUBLIC_URL = live_server.url
    source = recipe_code(site, "nextjs")
    # The recipe is TypeScript, node runs JavaScript: drop its only two type annotations.
    assert source.count('import type { NextRequest } from "next/server";\n') == 1
    assert source.count("(request: NextRequest)") == 1
    script = source.replace('import type { NextRequest } from "next/server";\n', "")
    (tmp_path / "middleware.mjs").write_text(script.replace("(request: NextRequest)", "(request)"))
    body = json.dumps(hit(site, u="https://www.mysaas.dev/", p=1, c=".mysaas.dev"))

    out = node_run(node, tmp_path, ANSWER + NEXT_RUN, body, CHROME_UA)

    assert out["matcher"] == f"{PROXY_PATH}/:path*"
    to_collect, to_script = out["sent"]
    assert to_collect["url"] == f"{live_server.url}/collect" and to_collect["method"] == "POST"
    assert to_script["url"] == f"{live_server.url}/p.js?v=2"
    forwarded = to_collect["headers"]
    assert forwarded["x-trackrev-proxy"] == site.pixel_proxy_secret
    assert forwarded["x-forwarded-for"] == "203.0.113.9"  # the visitor, not the hops after it
    assert forwarded["x-forwarded-host"] == "www.mysaas.dev"
    assert forwarded["user-agent"] == CHROME_UA
    assert "cookie" not in forwarded and "host" not in forwarded  # the site's cookies stay on the site
    assert out["collect"]["status"] == 204
    [cookie] = out["collect"]["cookies"]
    assert cookie.startswith(f"trackrev_vid={VISITOR};") and ONE_YEAR in cookie and "Domain=.mysaas.dev" in cookie
    assert out["script"]["status"] == 200 and out["script"]["type"].startswith("application/javascript")


WORKER_RUN = """import worker from "./worker.mjs";
const [body, ua] = process.argv.slice(2);
const call = async (path, init) => {
  return answer(await worker.fetch(new Request("http://www.mysaas.dev" + path, init)));
};
const headers = { "Content-Type": "text/plain;charset=UTF-8", "User-Agent": ua, "CF-Connecting-IP": "203.0.113.9",
  Origin: "http://www.mysaas.dev", Cookie: "session=private" };
console.log(JSON.stringify({
  collect: await call("/_tr/collect", { method: "POST", body, headers }),
  script: await call("/_tr/p.js", { headers }),
}));
"""


@pytest.mark.django_db(transaction=True)
def test_cloudflare_worker_forwards_a_hit_and_returns_the_cookie(site, node, tmp_path, live_server, settings):
    settings.TRACKREV_PUBLIC_URL = live_server.url
    worker = tmp_path / "worker.mjs"
    worker.write_text(recipe_code(site, "cloudflare"))
    body = json.dumps(hit(site, u="http://www.mysaas.dev/", p=1, c=".mysaas.dev"))

    out = node_run(node, tmp_path, ANSWER + WORKER_RUN, body, CHROME_UA)

    assert out["collect"]["status"] == 204
    [cookie] = out["collect"]["cookies"]
    assert cookie.startswith(f"trackrev_vid={VISITOR};") and ONE_YEAR in cookie and "Domain=.mysaas.dev" in cookie
    assert out["script"]["status"] == 200 and out["script"]["type"].startswith("application/javascript")


def test_cloudflare_worker_is_valid_javascript(site, node, tmp_path):
    worker = tmp_path / "worker.mjs"
    worker.write_text(recipe_code(site, "cloudflare"))
    done = subprocess.run([node, "--check", str(worker)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def django_site(site, live_server, settings):
    """The customer's Django app: the recipe's view, mounted by the recipe's own `path(...)` line, beside
    TrackRev's URLs (the live server shares this process's URLconf)."""
    settings.TRACKREV_PUBLIC_URL = live_server.url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "www.mysaas.dev"]
    code = recipe_code(site, "django")
    namespace: dict = {"__name__": "customer_site_views"}
    exec(compile(code, "trackrev_proxy_recipe.py", "exec"), namespace)  # noqa: S102 (our own rendered recipe)
    route = re.search(r'path\("[^"]+", trackrev_proxy\)', code).group(0)
    urls = types.ModuleType("customer_site_urls")
    urls.urlpatterns = [
        eval(route, {"path": path, "trackrev_proxy": namespace["trackrev_proxy"]}),  # noqa: S307
        path("", include("trackrev.urls")),
    ]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    yield Client(enforce_csrf_checks=True, HTTP_HOST="www.mysaas.dev")
    del sys.modules[urls.__name__]


@pytest.mark.django_db(transaction=True)
def test_django_view_forwards_a_hit_and_returns_the_cookie(site, django_site):
    body = json.dumps(hit(site, u="https://www.mysaas.dev/", p=1, c=".mysaas.dev"))
    response = django_site.generic(
        "POST",
        "/_tr/collect",
        body,
        content_type="text/plain;charset=UTF-8",
        HTTP_USER_AGENT=CHROME_UA,
        HTTP_ORIGIN="https://www.mysaas.dev",
        HTTP_COOKIE="sessionid=private",
    )
    assert response.status_code == 204
    cookie = response["Set-Cookie"]
    assert cookie.startswith(f"trackrev_vid={VISITOR};") and ONE_YEAR in cookie and "Domain=.mysaas.dev" in cookie

    script = django_site.get("/_tr/p.js")
    assert script.status_code == 200 and b"trackrev" in script.content
    assert "max-age=" in script["Cache-Control"]
    assert django_site.get("/_tr/app").status_code == 404  # only the pixel's two paths are forwarded


def _page(client, url: str = "/app/integrations/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _assert_recipes_shown(page: str, workspace) -> None:
    assert "First-party proxy (recommended for Safari and ad blockers)" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id is used twice on the page"
    for key in KEYS:
        assert f'data-proxy-recipe="{key}"' in page
        assert f'id="proxy-recipe-{key}"' in page and f'data-copy="proxy-recipe-{key}"' in page
    assert 'data-copy="pixel-proxy-snippet"' in page
    assert f"src=&quot;/_tr/p.js&quot; data-workspace=&quot;{workspace.public_id}&quot;" in page
    assert workspace.pixel_proxy_secret in page


def test_integrations_page_shows_every_recipe_with_copy_buttons(client, other):
    site = WorkspaceFactory(allowed_domains=["www.mysaas.dev"])
    client.force_login(MembershipFactory(workspace=site, role="owner").user)
    page = _page(client)
    _assert_recipes_shown(page, site)
    assert "data-api=&quot;https://www.mysaas.dev/_tr&quot;" in page
    assert other.pixel_proxy_secret not in page and other.public_id not in page
    _assert_recipes_shown(_page(client, "/app/integrations/stripe/"), site)


def test_a_viewer_sees_the_recipes_too(client, site, other):
    client.force_login(MembershipFactory(workspace=site, role="viewer").user)
    page = _page(client)
    _assert_recipes_shown(page, site)
    assert other.pixel_proxy_secret not in page
