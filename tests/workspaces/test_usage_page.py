"""The usage page (Settings · Usage) and the banners: this month's events against the limit, per day,
what counts, and the warnings at 80 % and 100 %."""

import datetime as dt

import pytest
import time_machine

from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.workspaces.models import UsageDay, UsageMonth
from trackrev.workspaces.usage import usage_days, usage_event_record, usage_flush

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)
NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def member(client, role="owner", plan="free", events=None):
    membership = MembershipFactory(role=role, workspace=WorkspaceFactory(plan=plan))
    if events is not None:
        UsageMonth.objects.create(workspace=membership.workspace, month=NOVEMBER, events=events)
    client.force_login(membership.user)
    return membership.workspace


def test_the_usage_page_shows_plan_count_limit_days_and_what_counts(client):
    workspace = member(client, role="viewer", events=420)
    UsageDay.objects.create(workspace=workspace, day=dt.date(2026, 11, 3), events=400)
    UsageDay.objects.create(workspace=workspace, day=dt.date(2026, 11, 15), events=20)
    other = WorkspaceFactory()  # another workspace's usage is not this one's
    UsageMonth.objects.create(workspace=other, month=NOVEMBER, events=999)
    UsageDay.objects.create(workspace=other, day=dt.date(2026, 11, 4), events=999)

    page = client.get("/app/settings/usage/").content.decode()

    assert "Free plan" in page
    assert "420 of 1,000 events</strong> this month (42 %)" in page
    assert "starts again on Dec 1, 2026" in page
    assert page.count('class="chart-slot"') == 15  # Nov 1 to today
    assert "<title>Nov 3, 2026: 400 events</title>" in page and "<title>Nov 4, 2026: 0 events</title>" in page
    assert "Each page view the pixel records" in page and "Each new order from your processors, once" in page
    assert "data-usage-banner" not in page  # under 80 %


def test_settings_link_to_the_usage_page(client):
    member(client)
    assert 'href="/app/settings/usage/"' in client.get("/app/settings/").content.decode()


def test_days_are_what_each_flush_added_and_today_includes_what_is_not_flushed(client):
    workspace = WorkspaceFactory()
    with time_machine.travel(dt.datetime(2026, 10, 31, 23, 50, tzinfo=dt.UTC), tick=False):
        for _ in range(3):
            usage_event_record(workspace_id=workspace.pk)
    with time_machine.travel(dt.datetime(2026, 11, 1, 0, 0, 30, tzinfo=dt.UTC), tick=False):
        usage_event_record(workspace_id=workspace.pk)  # November's first
        usage_flush()  # the month that just ended gets its last flush on its last day
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False):
        for _ in range(5):
            usage_event_record(workspace_id=workspace.pk)
        usage_flush()
        usage_flush()  # nothing new: nothing added
    for _ in range(2):
        usage_event_record(workspace_id=workspace.pk)  # today, not flushed yet

    assert list(UsageDay.objects.filter(workspace=workspace).values_list("day", "events")) == [
        (dt.date(2026, 10, 31), 3),
        (dt.date(2026, 11, 1), 1),
        (dt.date(2026, 11, 2), 5),
    ]
    days = dict(usage_days(workspace_id=workspace.pk))
    assert (days[dt.date(2026, 11, 1)], days[dt.date(2026, 11, 2)], days[NOW.date()]) == (1, 5, 2)
    assert sum(days.values()) == 8 and len(days) == 15


def test_the_banner_warns_from_80_percent_with_a_link_to_the_usage_page(client):
    workspace = member(client, events=799)
    assert "data-usage-banner" not in client.get("/app/").content.decode()
    usage_event_record(workspace_id=workspace.pk)

    dashboard = client.get("/app/").content.decode()

    assert 'data-usage-banner="near"' in dashboard
    assert "800 of 1,000 events used this month</strong> (80 %)" in dashboard
    assert "page views stop being recorded until Dec 1, 2026; sales are always recorded" in dashboard
    assert '<a href="/app/settings/usage/">See usage and upgrade</a>' in dashboard


def test_at_100_percent_the_banner_and_the_page_say_page_views_stop_and_sales_do_not(client):
    member(client, events=1000)
    dashboard = client.get("/app/").content.decode()
    assert 'data-usage-banner="reached"' in dashboard
    assert "1,000 of 1,000 events this month. Page views are no longer recorded until Dec 1, 2026" in dashboard
    assert "sales from your processors are still recorded and attributed" in dashboard
    page = client.get("/app/settings/usage/").content.decode()
    assert "The limit is reached: page views are no longer recorded" in page
    assert 'value="1000"' in page


def test_pro_shows_no_banner_and_no_limit(client):
    member(client, plan="pro", events=5000)
    assert "data-usage-banner" not in client.get("/app/").content.decode()
    page = client.get("/app/settings/usage/").content.decode()
    assert "5,000 events</strong> this month: no limit on Pro" in page


def test_the_usage_page_needs_a_login(client):
    response = client.get("/app/settings/usage/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
