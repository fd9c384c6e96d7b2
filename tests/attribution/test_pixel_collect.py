"""POST /collect: statuses, what gets stored, CORS, bots, rate limits."""

import json

import pytest
from django.test import override_settings

from attribution.models import Identity, Touch, Visitor
from tests.attribution.pixel_helpers import CHROME_UA, VISITOR, hit, post
from tests.factories.workspaces import WorkspaceFactory

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int]:
    return Touch.objects.count(), Visitor.objects.count(), Identity.objects.count()


def test_landing_is_stored_with_cors_and_204(client, workspace):
    response = post(
        client,
        hit(workspace, u="https://shop.example.com/?utm_source=newsletter&utm_medium=email"),
        origin="https://shop.example.com",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    touch = Touch.objects.get()
    assert (touch.workspace, touch.visitor_id, touch.channel, touch.channel_group) == (
        workspace,
        VISITOR,
        "Newsletter",
        "Email",
    )
    assert (touch.source, touch.medium) == ("newsletter", "email")
    assert Visitor.objects.get().visitor_id == VISITOR


def test_plain_page_view_only_counts(client, workspace):
    response = post(client, hit(workspace, s=False, r="https://shop.example.com/pricing"))
    assert response.status_code == 204
    assert stored() == (0, 0, 0)


def test_visitor_is_inserted_once_and_touches_appended(client, workspace):
    post(client, hit(workspace, r="https://www.facebook.com/"))
    post(client, hit(workspace, u="https://shop.example.com/?gclid=abc", s=False))
    assert Visitor.objects.count() == 1
    assert list(Touch.objects.order_by("id").values_list("channel", "channel_group", "click_id")) == [
        ("Facebook", "Organic Social", ""),
        ("Google", "Paid Search", "abc"),
    ]


def test_preflight_is_answered(client):
    response = client.options("/collect", HTTP_ORIGIN="https://a.example")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://a.example"
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_get_is_not_allowed(client):
    assert client.get("/collect").status_code == 405


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("x" * (8 * 1024 + 1), 413),
        ("{not json", 400),
        ("[1, 2]", 400),
        ('"text"', 400),
        (b"\xff\xfe\x00", 400),
    ],
)
def test_bad_bodies(client, workspace, raw, status):
    assert post(client, None, raw=raw).status_code == status
    assert stored() == (0, 0, 0)


def test_oversized_valid_json_is_413(client, workspace):
    body = hit(workspace, u="https://shop.example.com/?q=" + "a" * 9000)
    assert post(client, body).status_code == 413
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    "fields",
    [
        {"w": 123},
        {"v": "short"},
        {"v": "x" * 65},
        {"v": "../../etc/passwd/aaaaaaaa"},
        {"k": "click"},
        {"u": "javascript:alert(1)"},
        {"u": "not a url"},
        {"u": ["https://a.com"]},
        {"r": 5},
        {"s": "yes"},
        {"s": 2},
        {"k": "id", "e": "not-an-email"},
        {"k": "id", "e": None},
        {"a": "true"},
    ],
)
def test_wrong_types_are_400(client, workspace, fields):
    assert post(client, hit(workspace, **fields)).status_code == 400
    assert stored() == (0, 0, 0)


def test_missing_fields_are_400(client, workspace):
    body = hit(workspace)
    del body["v"]
    assert post(client, body).status_code == 400


def test_unknown_workspace_is_404(client, db):
    body = {"w": "ws_doesnotexist", "v": VISITOR, "k": "pv", "u": "https://a.com/", "s": True}
    assert post(client, body).status_code == 404
    assert stored() == (0, 0, 0)


def test_foreign_host_is_403(client):
    workspace = WorkspaceFactory(allowed_domains=["example.com"])
    assert post(client, hit(workspace, u="https://evil.test/")).status_code == 403
    assert post(client, hit(workspace), origin="https://evil.test").status_code == 403
    assert stored() == (0, 0, 0)
    # Subdomains of an allowed domain are welcome.
    assert post(client, hit(workspace), origin="https://www.example.com").status_code == 204
    assert Touch.objects.count() == 1


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "",
    ],
)
def test_bots_and_headless_browsers_are_dropped(client, workspace, ua):
    assert post(client, hit(workspace), ua=ua).status_code == 204
    assert stored() == (0, 0, 0)


def test_automation_flag_from_the_browser_is_dropped(client, workspace):
    assert post(client, hit(workspace, a=True)).status_code == 204
    assert stored() == (0, 0, 0)


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=3)
def test_rate_limit_per_ip_and_workspace(client, workspace):
    statuses = [
        post(client, hit(workspace, u=f"https://shop.example.com/?utm_source=s{i}")).status_code for i in range(5)
    ]
    assert statuses == [204, 204, 204, 429, 429]
    assert Touch.objects.count() == 3
    # Another IP, or another workspace, has its own budget.
    assert post(client, hit(workspace), ip="198.51.100.1").status_code == 204
    assert post(client, hit(WorkspaceFactory())).status_code == 204


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1, TRUSTED_PROXY_COUNT=1)
def test_rate_limit_uses_the_proxied_address_when_trusted(client, workspace):
    first = client.generic(
        "POST",
        "/collect",
        json.dumps(hit(workspace)),
        content_type="text/plain",
        HTTP_USER_AGENT=CHROME_UA,
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    second = client.generic(
        "POST",
        "/collect",
        json.dumps(hit(workspace)),
        content_type="text/plain",
        HTTP_USER_AGENT=CHROME_UA,
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert (first.status_code, second.status_code) == (204, 204)


def test_identify_stores_the_digest(client, workspace):
    assert post(client, hit(workspace, k="id", e=" Jane@Example.com ")).status_code == 204
    identity = Identity.objects.get()
    from trackrev.common.emails import email_digest

    assert identity.email_digest == email_digest("jane@example.com")
    assert identity.visitor_id == VISITOR
    assert Touch.objects.count() == 0
