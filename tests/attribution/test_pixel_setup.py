"""The Integrations page's step 1 ({% pixel_setup %}) and GET /p.js."""

import gzip

import pytest
from django.template import Context, Template
from django.test import override_settings

from tests.attribution.pixel_helpers import hit, post
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.usage import usage_flush

pytestmark = pytest.mark.django_db


def render(workspace) -> str:
    return Template("{% load pixel %}{% pixel_setup %}").render(Context({"workspace": workspace}))


@override_settings(TRACKREV_PUBLIC_URL="https://track.example.net")
def test_snippet_has_the_workspace_and_public_url():
    workspace = WorkspaceFactory(allowed_domains=["www.mysaas.dev", "app.mysaas.dev"])
    html = render(workspace)
    assert "data-cookie-domain=&quot;.mysaas.dev&quot;" in html  # www. dropped: every subdomain shares it
    assert f"data-workspace=&quot;{workspace.public_id}&quot;" in html
    assert "https://track.example.net/p.js" in html
    assert 'data-copy="pixel-snippet"' in html and 'id="pixel-snippet"' in html
    assert "/static/js/copy.js" in html
    assert "Cookie domain" in html and "trackrev_vid" in html


def test_snippet_explains_the_cookie_domain_when_unknown(workspace):
    html = render(workspace)
    snippet = html.split('id="pixel-snippet">')[1].split("</pre>")[0]
    assert "data-cookie-domain" not in snippet
    assert 'data-cookie-domain=".yoursite.com"' in html  # the explanation tells how to add it


def test_last_hit_received(client, workspace):
    assert "No hit received yet" in render(workspace)
    post(client, hit(workspace))
    assert "Last hit received" in render(workspace)  # live counter ahead of the stored total
    usage_flush()
    assert "Last hit received" in render(workspace)


def test_integrations_page_shows_step_one(owner_client, workspace):
    page = owner_client.get("/app/integrations/").content.decode()
    assert "Step 1 · Paste the pixel" in page
    assert workspace.public_id in page


def test_pixel_script_is_small_and_cacheable(client):
    response = client.get("/p.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age >= 3600
    assert len(gzip.compress(response.content, 9)) <= 3 * 1024
    source = response.content.decode()
    for needle in (
        "trackrev_vid",
        "sendBeacon",
        "keepalive",
        "pushState",
        "replaceState",
        "popstate",
        "SameSite=Lax",
        "Secure",
        "data-",
    ):
        assert needle in source
