"""Plans: the Free quota stops storing page views, never sales; Pro has no limit; an order is one event,
counted once; a plan change reaches the pixel at once."""

import datetime as dt
import types

import pytest
import time_machine

from attribution.models import Credit, OrderAttribution, Touch
from attribution.selectors import pixel as pixel_selectors
from attribution.selectors.pixel import pixel_site_get
from integrations.models import Order
from integrations.processors.types import NormalizedOrder
from integrations.services.ledger import order_upsert
from tests.affiliates.scenario import PLACED, VISITOR, polar_order
from tests.attribution.pixel_helpers import hit, post
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory, paid_order
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from tests.integrations.polar import encode, sign
from trackrev.workspaces.config_version import VERSION_KEY
from trackrev.workspaces.models import UsageDay, UsageMonth
from trackrev.workspaces.services import workspace_update
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, usage_flush, usage_month_events

SEPTEMBER = dt.date(2026, 9, 1)
NOW = PLACED + dt.timedelta(minutes=1)  # the reference Polar order was placed this month


def landing(workspace, n, visitor=VISITOR):
    return hit(workspace, v=visitor, u=f"https://shop.example.com/?utm_source=news{n}&utm_medium=email")


def order(external_id: str, placed: dt.datetime = NOW) -> NormalizedOrder:
    return paid_order(external_id, placed)


@pytest.mark.django_db(transaction=True, databases="__all__")
@time_machine.travel(NOW, tick=False)
def test_free_past_the_quota_stores_no_page_view_shows_the_banner_and_still_attributes_a_polar_order(client, broker):
    from integrations import dispatch

    workspace = WorkspaceFactory(plan="free")
    connection = ProcessorConnectionFactory(workspace=workspace)
    UsageMonth.objects.create(workspace=workspace, month=SEPTEMBER, events=FREE_MONTHLY_EVENTS - 1)

    with time_machine.travel(PLACED - dt.timedelta(hours=1), tick=False):  # before the purchase
        assert post(client, landing(workspace, 1000)).status_code == 204  # the 1,000th: stored
        dropped = post(client, landing(workspace, 1001, visitor="f" * 32))  # the 1,001st: counted, not stored
    assert dropped.status_code == 204 and dropped["X-TrackRev-Dropped"] == "quota"
    [touch] = Touch.objects.all()
    assert (touch.visitor_id, touch.source) == (VISITOR, "news1000")
    assert usage_month_events(workspace_id=workspace.pk) == FREE_MONTHLY_EVENTS + 1

    client.force_login(MembershipFactory(workspace=workspace).user)
    dashboard = client.get("/app/").content.decode()
    assert 'data-usage-banner="reached"' in dashboard
    assert "Page views are no longer recorded" in dashboard and "sales from your processors are still" in dashboard

    body = encode(polar_order())  # the visitor's purchase, delivered to the real endpoint, signed as Polar signs
    response = client.generic(
        "POST",
        f"/webhooks/polar/{workspace.public_id}",
        body,
        content_type="application/json",
        headers=sign(body, POLAR_SECRET),
    )
    assert response.status_code == 202
    assert dispatch._batcher.drain(timeout=5)
    broker.run()  # the worker, then the consumers it sets off

    sale = Order.objects.get(connection=connection)
    assert sale.amount_minor == 4410
    attribution = OrderAttribution.objects.get(order=sale)
    assert attribution.visitor_id == VISITOR
    assert set(Credit.objects.filter(order=sale).values_list("channel", flat=True)) == {touch.channel}
    assert usage_month_events(workspace_id=workspace.pk) == FREE_MONTHLY_EVENTS + 2  # the order is an event


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_pro_has_no_limit(client):
    workspace = WorkspaceFactory(plan="pro")
    UsageMonth.objects.create(workspace=workspace, month=SEPTEMBER, events=FREE_MONTHLY_EVENTS * 50)
    assert "X-TrackRev-Dropped" not in post(client, landing(workspace, 1))
    assert Touch.objects.filter(workspace=workspace).count() == 1
    client.force_login(MembershipFactory(workspace=workspace).user)
    page = client.get("/app/settings/usage/").content.decode()
    assert "50,001 events</strong> this month: no limit on Pro" in page
    assert "data-usage-banner" not in page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_order_counts_once_on_commit_in_the_month_it_was_placed(committed):
    workspace = WorkspaceFactory(plan="free")
    connection = ProcessorConnectionFactory(workspace=workspace)
    with committed():
        order_upsert(connection=connection, order=order("ord_1"), via="webhook")
    with committed():  # a replayed webhook, then the hourly reconcile seeing it again
        order_upsert(connection=connection, order=order("ord_1"), via="webhook")
        order_upsert(connection=connection, order=order("ord_1"), via="poll")
    with committed():  # history from a closed month, imported on connecting
        order_upsert(connection=connection, order=order("ord_old", placed=NOW - dt.timedelta(days=40)), via="poll")

    assert usage_month_events(workspace_id=workspace.pk) == 1
    # Stored at once, so that the pixel's "last hit received" still tells page views only.
    month = UsageMonth.objects.get(workspace=workspace)
    assert (month.events, month.last_event_at) == (1, None)
    assert list(UsageDay.objects.values_list("day", "events")) == [(NOW.date(), 1)]
    assert usage_flush() == 0  # nothing for the flush to add: no day counts it twice


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_order_rolled_back_counts_nothing(django_capture_on_commit_callbacks):
    connection = ProcessorConnectionFactory()
    with django_capture_on_commit_callbacks(execute=False):  # the transaction never commits
        order_upsert(connection=connection, order=order("ord_1"), via="webhook")
    assert usage_month_events(workspace_id=connection.workspace_id) == 0


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_upgrade_reaches_the_pixel_of_its_own_process_at_once(client, committed):
    workspace = WorkspaceFactory(plan="free")
    UsageMonth.objects.create(workspace=workspace, month=SEPTEMBER, events=FREE_MONTHLY_EVENTS * 2)
    assert post(client, landing(workspace, 1))["X-TrackRev-Dropped"] == "quota"  # Free, cached for a minute

    with committed():
        workspace_update(workspace=workspace, data={"plan": "pro"})

    assert "X-TrackRev-Dropped" not in post(client, landing(workspace, 2))
    assert Touch.objects.filter(workspace=workspace).count() == 1


@pytest.mark.django_db
def test_a_plan_changed_by_another_process_reaches_this_one_within_a_second(monkeypatch, django_assert_num_queries):
    from django.core.cache import cache

    workspace = WorkspaceFactory(plan="free")
    clock = types.SimpleNamespace(monotonic=lambda: 1000.0)
    monkeypatch.setattr(pixel_selectors, "time", clock)
    monkeypatch.setattr(pixel_selectors, "_seen", pixel_selectors._SeenVersion())  # as a process starts
    assert pixel_site_get(public_id=workspace.public_id).plan == "free"

    # Another process commits the upgrade and sets a new version (nothing of this process is told).
    type(workspace).objects.filter(pk=workspace.pk).update(plan="pro")
    cache.set(VERSION_KEY, "set-by-another-process", timeout=None)

    with django_assert_num_queries(0):  # within the second, the cached copy serves without a cache read
        assert pixel_site_get(public_id=workspace.public_id).plan == "free"
    clock.monotonic = lambda: 1000.0 + pixel_selectors.VERSION_CHECK_EVERY
    assert pixel_site_get(public_id=workspace.public_id).plan == "pro"  # long before SITE_TTL
    assert pixel_selectors.VERSION_CHECK_EVERY < pixel_selectors.SITE_TTL
