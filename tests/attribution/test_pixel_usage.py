"""Usage: page views counted in the cache (no database write per hit), flushed to UsageMonth by a
periodic job; the Free plan's quota stops storing touches and the page shell shows a banner."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from attribution.models import Touch
from tests.attribution.pixel_helpers import hit, post
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.celery import app as celery_app
from trackrev.workspaces.models import UsageMonth
from trackrev.workspaces.schedules import SCHEDULE
from trackrev.workspaces.tasks import usage_flush_task
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, usage_event_record, usage_flush, usage_month_events

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)


def landing(workspace, n):
    return hit(workspace, u=f"https://shop.example.com/?utm_source=s{n}&utm_medium=email")


@time_machine.travel(NOW, tick=False)
def test_page_views_do_not_write_the_database(client, workspace, django_assert_num_queries):
    post(client, hit(workspace, s=False))  # warms the workspace cache and seeds the counter
    with django_assert_num_queries(0):
        for _ in range(5):
            assert post(client, hit(workspace, s=False)).status_code == 204
    assert usage_month_events(workspace_id=workspace.pk) == 6
    assert not UsageMonth.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_bots_and_identify_do_not_count(client, workspace):
    post(client, hit(workspace), ua="Googlebot/2.1 (+http://www.google.com/bot.html)")
    post(client, hit(workspace, k="id", e="a@b.co"))
    assert usage_month_events(workspace_id=workspace.pk) == 0


@time_machine.travel(NOW, tick=False)
def test_flush_copies_counters_and_never_lowers(workspace):
    for _ in range(3):
        usage_event_record(workspace_id=workspace.pk)
    assert usage_flush_task() == 1
    row = UsageMonth.objects.get(workspace=workspace)
    assert (row.month, row.events, row.last_event_at) == (dt.date(2026, 11, 1), 3, NOW)
    assert usage_flush() == 0  # nothing new
    cache.clear()  # a lost cache re-seeds from the stored total
    assert usage_event_record(workspace_id=workspace.pk) == 4
    usage_flush()
    assert UsageMonth.objects.get(workspace=workspace).events == 4


def test_flush_is_scheduled_every_minute():
    entry = SCHEDULE["workspaces.usage_flush"]
    assert entry["task"] in celery_app.tasks
    assert entry["options"]["expires"] < 60


@time_machine.travel(NOW, tick=False)
def test_free_plan_stops_storing_touches_past_the_quota(client):
    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS - 2)
    statuses = [post(client, landing(workspace, n)).status_code for n in range(4)]
    assert statuses == [204] * 4
    assert Touch.objects.filter(workspace=workspace).count() == 2  # events 999 and 1000
    assert usage_month_events(workspace_id=workspace.pk) == FREE_MONTHLY_EVENTS + 2


@time_machine.travel(NOW, tick=False)
def test_quota_counts_real_hits_and_resets_next_month(client, settings):
    settings.PIXEL_RATE_LIMIT_PER_MINUTE = 10_000
    workspace = WorkspaceFactory(plan="free")
    for n in range(FREE_MONTHLY_EVENTS):
        post(client, hit(workspace, s=False, r=f"https://shop.example.com/{n}"))
    assert post(client, landing(workspace, 1)).status_code == 204
    assert not Touch.objects.exists()
    usage_flush()
    with time_machine.travel(dt.datetime(2026, 12, 1, 0, 1, tzinfo=dt.UTC), tick=False):
        assert post(client, landing(workspace, 2)).status_code == 204
    assert Touch.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_pro_plan_has_no_quota(client):
    workspace = WorkspaceFactory(plan="pro")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=50_000)
    post(client, landing(workspace, 1))
    assert Touch.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_banner_shows_the_count_past_the_quota(client):
    workspace = WorkspaceFactory(plan="free")
    client.force_login(MembershipFactory(workspace=workspace).user)
    assert "data-usage-banner" not in client.get("/app/settings/").content.decode()
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS)
    usage_event_record(workspace_id=workspace.pk)
    page = client.get("/app/settings/").content.decode()
    assert "data-usage-banner" in page
    assert "Free plan limit reached" in page
    assert "1,001 of 1,000 events" in page


@time_machine.travel(NOW, tick=False)
def test_banner_warns_near_the_quota_and_not_on_pro(client):
    workspace = WorkspaceFactory(plan="free")
    client.force_login(MembershipFactory(workspace=workspace).user)
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=850)
    assert "850 of 1,000 events used" in client.get("/app/settings/").content.decode()
    workspace.plan = "pro"
    workspace.save()
    assert "data-usage-banner" not in client.get("/app/settings/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_processor_orders_are_never_dropped_by_the_quota(client):
    from integrations.models import Order
    from integrations.services.ledger import order_upsert
    from tests.factories.integrations import ProcessorConnectionFactory, paid_order

    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=dt.date(2026, 11, 1), events=FREE_MONTHLY_EVENTS * 5)
    post(client, landing(workspace, 1))
    assert not Touch.objects.exists()
    order = paid_order("ord_1", NOW)
    order_upsert(connection=ProcessorConnectionFactory(workspace=workspace), order=order, via="webhook")
    assert Order.objects.filter(workspace=workspace, external_id="ord_1", amount_minor=4900).exists()
