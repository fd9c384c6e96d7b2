"""Proxy mode on the production ingest path (Redis as the cache): a hit's mode is counted inside the
round trip it makes anyway, the direct and proxied paths write nothing to the database, and the
buffered landing keeps how the visitor arrived until its flush. Needs the Redis of CELERY_BROKER_URL."""

import pytest

from attribution.models import BrowserFamily, Visitor, VisitorCookie
from attribution.selectors.pixel import HitModes, pixel_modes_recent
from attribution.services.pixel import touches_flush
from tests.attribution.pixel_helpers import GOOGLEBOT, hit, post
from tests.attribution.test_pixel_proxy import FIREFOX_UA, proxied, site_hit
from tests.attribution.test_pixel_redis import redis_cache_settings  # noqa: F401 (autouse: Redis as the cache)

pytestmark = [pytest.mark.broker, pytest.mark.django_db]


def test_modes_are_counted_in_the_hits_round_trip(client, workspace, django_assert_num_queries):
    secret = workspace.pixel_proxy_secret
    post(client, hit(workspace, v="w" * 32))  # warms the workspace cache
    with django_assert_num_queries(0):  # neither path reads or writes the database
        assert proxied(client, site_hit(workspace, v="a" * 32), secret=secret, ua=FIREFOX_UA).status_code == 204
        assert proxied(client, site_hit(workspace, v="b" * 32), secret="tps_wrong").status_code == 204
        assert post(client, hit(workspace, v="c" * 32)).status_code == 204
        assert post(client, hit(workspace, v="d" * 32), ua=GOOGLEBOT).status_code == 204  # dropped: counted too
    assert pixel_modes_recent(workspace_id=workspace.pk) == HitModes(proxy=1, direct=3, wrong_secret=1)
    assert touches_flush() == 4
    arrivals = dict(Visitor.objects.values_list("visitor_id", "browser").filter(cookie=VisitorCookie.PROXY))
    assert arrivals == {"a" * 32: BrowserFamily.FIREFOX}
    assert Visitor.objects.filter(cookie=VisitorCookie.SCRIPT, browser=BrowserFamily.CHROME).count() == 3
