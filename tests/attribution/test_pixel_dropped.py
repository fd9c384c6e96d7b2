"""Hits /collect did not count: each answer says why (`X-TrackRev-Dropped`, readable cross-origin), the
workspace counts them by reason for 24 hours, and the Integrations page says what to do. Every test
runs on each cache the pixel meets: the memory cache of tests, the file cache of embedded mode
(both through the cache API and a direct insert) and Redis (the production path: one Lua round trip).
"""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core.cache import caches
from django.template import Context, Template
from django.test import override_settings
from django.utils.html import escape

from attribution.models import Identity, Touch
from attribution.pixel.drops import COUNTED, HEADER, DropReason
from attribution.public_views import SCRIPT_PATH
from attribution.selectors.pixel import DropCount, pixel_drops_recent
from attribution.services.pixel import touches_flush
from tests.attribution.pixel_helpers import GOOGLEBOT, hit, post
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.models import UsageMonth
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 15, 12, 30, tzinfo=dt.UTC)


@pytest.fixture(params=["locmem", "file", "redis"], autouse=True)
def pixel_cache(request, tmp_path):
    if request.param == "redis":
        prefix = f"test-dropped-{uuid.uuid4().hex}"
        config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": request.getfixturevalue("redis_url"),
            "KEY_PREFIX": prefix,
        }
    elif request.param == "file":
        config = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    else:
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    with override_settings(CACHES={"default": config}):
        yield request.param
        if request.param == "redis":
            client = caches["default"]._cache.get_client(write=True)
            keys = list(client.scan_iter(f"{prefix}:*"))
            if keys:
                client.delete(*keys)


def render(workspace) -> str:
    return Template("{% load pixel %}{% pixel_setup %}").render(Context({"workspace": workspace}))


def landing(workspace, n=0, **fields):
    return hit(workspace, u=f"https://shop.example.com/?utm_source=newsletter&n={n}", v=f"{n:032d}", **fields)


def bot(client):
    workspace = WorkspaceFactory()
    return workspace, post(client, landing(workspace), ua=GOOGLEBOT)


def webdriver(client):
    workspace = WorkspaceFactory()
    return workspace, post(client, landing(workspace, a=True))


def foreign_page(client):
    workspace = WorkspaceFactory(allowed_domains=["mysaas.dev"])
    return workspace, post(client, hit(workspace, u="https://staging.other.dev/?utm_source=newsletter"))


def foreign_origin(client):
    workspace = WorkspaceFactory(allowed_domains=["mysaas.dev"])
    body = hit(workspace, u="https://www.mysaas.dev/?utm_source=newsletter")
    return workspace, post(client, body, origin="https://staging.other.dev")


def past_quota(client):
    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS - 1)
    assert HEADER not in post(client, hit(workspace, s=False))  # event 1000: counted
    return workspace, post(client, landing(workspace))  # event 1001


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1)
def rate_limited(client):
    workspace = WorkspaceFactory()
    assert HEADER not in post(client, hit(workspace, s=False))
    return workspace, post(client, landing(workspace))


@override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1)
def rate_limited_identify(client):
    workspace = WorkspaceFactory()
    assert HEADER not in post(client, hit(workspace, s=False))
    return workspace, post(client, hit(workspace, k="id", e="buyer@example.com"))


CASES = {
    "bot user agent": (bot, DropReason.AUTOMATED, 204, "open your site in a normal browser window"),
    "navigator.webdriver": (webdriver, DropReason.AUTOMATED, 204, "open your site in a normal browser window"),
    "page on a foreign domain": (foreign_page, DropReason.DOMAIN, 403, "<code>staging.other.dev</code>. If that is"),
    "foreign origin": (foreign_origin, DropReason.DOMAIN, 403, "<code>staging.other.dev</code>. If that is"),
    "free quota": (past_quota, DropReason.QUOTA, 204, "Upgrade to Pro to record every visit, or wait"),
    "rate limit": (rate_limited, DropReason.RATE_LIMIT, 429, "usually a script or a load test"),
    "rate limit, identify": (rate_limited_identify, DropReason.RATE_LIMIT, 429, "usually a script or a load test"),
}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("case", CASES)
def test_a_dropped_hit_says_why_is_counted_and_explained(client, case, caplog):
    send, reason, status, advice = CASES[case]
    with caplog.at_level("INFO", logger="django.request"):
        workspace, response = send(client)
    assert caplog.records == []  # counted for the page instead: no log line per refused hit

    assert response.status_code == status
    assert response[HEADER] == reason
    assert response["Access-Control-Expose-Headers"] == HEADER  # readable by p.js across origins
    touches_flush()  # stores whatever the Redis path buffered
    assert not Touch.objects.exists() and not Identity.objects.exists()
    assert pixel_drops_recent(workspace_id=workspace.pk).rows == (DropCount(reason, 1),)
    card = render(workspace)
    assert "Not counted in the last 24 hours: 1 hit</h3>" in card
    assert f'<li data-dropped-reason="{reason}"><strong>1</strong> · {escape(reason.label)}.' in card
    assert advice in card


@time_machine.travel(NOW, tick=False)
def test_every_reason_is_counted_apart_and_the_card_says_what_to_do(client):
    workspace = WorkspaceFactory(plan="free", allowed_domains=["mysaas.dev"])
    page = "https://www.mysaas.dev/"
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS - 1)
    assert HEADER not in post(client, hit(workspace, u=page, s=False))  # the month's last event
    for _ in range(3):
        post(client, hit(workspace, u=page), ua=GOOGLEBOT)
    post(client, hit(workspace, u="https://staging.mysaas.test/"))
    post(client, hit(workspace, u=page))
    post(client, hit(workspace, u=page), ip="198.51.100.9")
    with override_settings(PIXEL_RATE_LIMIT_PER_MINUTE=1):
        assert post(client, hit(workspace, u=page), ip="198.51.100.9").status_code == 429  # its 2nd this minute

    drops = pixel_drops_recent(workspace_id=workspace.pk)
    assert drops.rows == (
        DropCount(DropReason.AUTOMATED, 3),
        DropCount(DropReason.DOMAIN, 1),
        DropCount(DropReason.QUOTA, 2),
        DropCount(DropReason.RATE_LIMIT, 1),
    )
    assert (drops.total, drops.refused_host) == (7, "staging.mysaas.test")
    card = render(workspace)
    assert "Not counted in the last 24 hours: 7 hits" in card
    assert 'add it to Allowed domains in <a href="/app/settings/">Settings</a>' in card
    assert "The Free plan records 1,000 events a month" in card and "counting starts again on Dec 1, 2026" in card
    assert "More than 1 hits a minute" not in card  # read when the page is drawn: the setting is back
    assert "More than 600 hits a minute came from one address" in card


def test_a_counted_hit_says_nothing_and_counts_no_drop(client, workspace):
    response = post(client, landing(workspace))
    assert response.status_code == 204
    assert HEADER not in response and "Access-Control-Expose-Headers" not in response
    assert pixel_drops_recent(workspace_id=workspace.pk).total == 0
    card = render(workspace)
    assert "data-dropped" not in card and "Last hit received" in card
    assert "Add <code>data-debug</code> to the script tag" in card


def test_a_hit_for_an_unknown_workspace_says_so(client, workspace):
    body = hit(workspace, w="ws_doesnotexist")
    response = post(client, body)
    assert (response.status_code, response[HEADER]) == (404, DropReason.UNKNOWN_WORKSPACE)
    assert response["Access-Control-Expose-Headers"] == HEADER
    assert pixel_drops_recent(workspace_id=workspace.pk).total == 0  # no workspace to count it under


def test_dropped_hits_before_any_counted_one_are_pointed_at(client):
    workspace = WorkspaceFactory(allowed_domains=["mysaas.dev"])
    post(client, hit(workspace))
    post(client, hit(workspace, u="https://b.example.com/"))
    assert "No hit counted yet: 2 arrived but were not counted (why, below)." in render(workspace)


def test_counts_cover_the_last_24_hours_and_name_the_latest_refused_host(client):
    workspace = WorkspaceFactory(allowed_domains=["mysaas.dev"])

    def at(delta: dt.timedelta):
        return time_machine.travel(NOW + delta, tick=False)

    def drops(delta: dt.timedelta):
        with at(delta):
            return pixel_drops_recent(workspace_id=workspace.pk)

    with at(dt.timedelta()):
        post(client, hit(workspace, u="https://first.example/"))
    with at(dt.timedelta(minutes=20)):
        post(client, hit(workspace, u="https://second.example/"))  # same hour: the first one is kept
    assert drops(dt.timedelta(hours=1)).refused_host == "first.example"
    with at(dt.timedelta(hours=3)):
        post(client, hit(workspace, u="https://third.example/"))

    day_later = drops(dt.timedelta(hours=24))
    assert (day_later.total, day_later.refused_host) == (3, "third.example")
    assert drops(dt.timedelta(hours=25)).total == 1
    gone = drops(dt.timedelta(hours=28))
    assert (gone.total, gone.refused_host) == (0, "")


def test_p_js_explains_every_reason():
    source = SCRIPT_PATH.read_text()
    assert f"r.headers.get('{HEADER}')" in source
    for reason in DropReason:
        key = f"'{reason}':" if "-" in reason else f"{reason}:"
        assert key in source, reason
    assert set(COUNTED) == set(DropReason) - {DropReason.UNKNOWN_WORKSPACE}
