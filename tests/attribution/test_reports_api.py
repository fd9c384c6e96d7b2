"""GET /api/v1/reports/channels/ and /reports/revenue-daily/ field for field (CONTRACTS.md §5)."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from attribution.services.visitors import visitor_sets_sync
from tests.attribution.sales import NOW, frozen_today, sale  # noqa: F401 (autouse fixture)
from tests.factories.engine import TouchFactory
from tests.factories.workspaces import WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(workspace):
    """Newsletter then Facebook for ann (buys on Polar), YouTube for bob (buys on Stripe), two
    Direct-only visitors, one sale nobody can be matched to."""
    touch = TouchFactory
    touch(
        workspace=workspace,
        visitor_id="ann",
        occurred_at=NOW - timedelta(days=6),
        channel="Newsletter",
        channel_group="Email",
        campaign="nov-launch",
    )
    touch(
        workspace=workspace,
        visitor_id="ann",
        occurred_at=NOW - timedelta(days=2),
        channel="Facebook",
        channel_group="Organic Social",
    )
    touch(
        workspace=workspace,
        visitor_id="bob",
        occurred_at=NOW - timedelta(days=3),
        channel="YouTube",
        channel_group="Organic Video",
    )
    touch(workspace=workspace, visitor_id="cat", occurred_at=NOW - timedelta(days=1), channel="Direct")
    touch(workspace=workspace, visitor_id="dan", occurred_at=NOW - timedelta(days=40), channel="Direct")
    sale(workspace, visitor="ann", amount=10000, days_ago=1)
    sale(workspace, visitor="bob", processor="stripe", amount=2900, days_ago=2)
    sale(workspace, amount=500, processor="paddle", days_ago=0)
    return workspace


def test_channels_defaults_last_touch_last_30_days(shop, api_client):
    response = api_client.get("/api/v1/reports/channels/")
    assert response.status_code == 200
    assert response.json() == {
        "currency": "USD",
        "model": "last_touch",
        "start": "2026-10-22",
        "end": "2026-11-20",
        "processor": None,
        "group_by": "channel",
        "rows": [
            {"channel": "Facebook", "visitors": 1, "conversions": "1.00", "revenue": "100.00"},
            {"channel": "YouTube", "visitors": 1, "conversions": "1.00", "revenue": "29.00"},
            {"channel": "Unattributed", "visitors": 0, "conversions": "1.00", "revenue": "5.00"},
            {"channel": "Direct", "visitors": 1, "conversions": "0.00", "revenue": "0.00"},
            {"channel": "Newsletter", "visitors": 1, "conversions": "0.00", "revenue": "0.00"},
        ],
        "totals": {"visitors": 3, "conversions": "3.00", "revenue": "134.00"},
    }


def test_channels_model_range_and_workspace_default(shop, api_client):
    body = api_client.get("/api/v1/reports/channels/?model=linear&start=2026-11-19&end=2026-11-19").json()
    assert (body["start"], body["end"], body["model"]) == ("2026-11-19", "2026-11-19", "linear")
    assert [(r["channel"], r["conversions"], r["revenue"]) for r in body["rows"]] == [
        ("Facebook", "0.50", "50.00"),
        ("Newsletter", "0.50", "50.00"),
        ("Direct", "0.00", "0.00"),
    ]
    assert body["totals"] == {"visitors": 1, "conversions": "1.00", "revenue": "100.00"}
    shop.attribution_model = "first_touch"
    shop.save()
    body = api_client.get("/api/v1/reports/channels/").json()
    assert body["model"] == "first_touch"
    assert body["rows"][0] == {"channel": "Newsletter", "visitors": 1, "conversions": "1.00", "revenue": "100.00"}


def test_channels_processor_filter(shop, api_client):
    body = api_client.get("/api/v1/reports/channels/?processor=stripe").json()
    assert body["processor"] == "stripe"
    assert body["rows"][0] == {"channel": "YouTube", "visitors": 1, "conversions": "1.00", "revenue": "29.00"}
    assert body["totals"]["revenue"] == "29.00"
    assert api_client.get("/api/v1/reports/channels/?processor=lemonsqueezy").json()["totals"]["revenue"] == "0.00"


def test_channels_group_by_channel_group_and_campaign(shop, api_client):
    body = api_client.get("/api/v1/reports/channels/?group_by=channel_group&model=linear").json()
    assert body["group_by"] == "channel_group"
    assert body["rows"][:3] == [
        {"channel_group": "Email", "visitors": 1, "conversions": "0.50", "revenue": "50.00"},
        {"channel_group": "Organic Social", "visitors": 1, "conversions": "0.50", "revenue": "50.00"},
        {"channel_group": "Organic Video", "visitors": 1, "conversions": "1.00", "revenue": "29.00"},
    ]
    body = api_client.get("/api/v1/reports/channels/?group_by=campaign&model=first_touch").json()
    assert body["rows"][0] == {"campaign": "nov-launch", "visitors": 1, "conversions": "1.00", "revenue": "100.00"}
    assert {"campaign": "(not set)", "visitors": 3, "conversions": "2.00", "revenue": "34.00"} in body["rows"]


def test_visitor_sets_and_the_unfolded_tail_give_the_same_counts(shop, api_client):
    before = api_client.get("/api/v1/reports/channels/").json()
    assert visitor_sets_sync(workspace=shop) == 0  # the first fold only notes the newest touch id…
    assert visitor_sets_sync(workspace=shop) == 5  # …which the next one folds, once it is surely committed
    assert api_client.get("/api/v1/reports/channels/").json() == before
    TouchFactory(
        workspace=shop,
        visitor_id="eve",
        occurred_at=NOW - timedelta(hours=2),
        channel="Facebook",
        channel_group="Organic Social",
    )
    TouchFactory(
        workspace=shop,
        visitor_id="ann",
        occurred_at=NOW - timedelta(hours=2),
        channel="Facebook",
        channel_group="Organic Social",
    )
    rows = {r["channel"]: r for r in api_client.get("/api/v1/reports/channels/").json()["rows"]}
    assert rows["Facebook"]["visitors"] == 2  # eve is new, ann was already counted


def test_revenue_daily_defaults_to_10_zero_filled_days(shop, api_client):
    body = api_client.get("/api/v1/reports/revenue-daily/").json()
    assert body["currency"] == "USD"
    assert [d["date"] for d in body["days"]] == [f"2026-11-{d}" for d in range(11, 21)]
    assert body["days"][-3:] == [
        {"date": "2026-11-18", "revenue": "29.00", "orders": 1},
        {"date": "2026-11-19", "revenue": "100.00", "orders": 1},
        {"date": "2026-11-20", "revenue": "5.00", "orders": 1},
    ]
    assert body["days"][0] == {"date": "2026-11-11", "revenue": "0.00", "orders": 0}


def test_revenue_daily_days_range_model_and_processor(shop, api_client):
    body = api_client.get("/api/v1/reports/revenue-daily/?days=2&processor=polar&model=linear").json()
    assert body["days"] == [
        {"date": "2026-11-19", "revenue": "100.00", "orders": 1},
        {"date": "2026-11-20", "revenue": "0.00", "orders": 0},
    ]
    body = api_client.get("/api/v1/reports/revenue-daily/?start=2026-11-17&end=2026-11-18").json()
    assert body["days"] == [
        {"date": "2026-11-17", "revenue": "0.00", "orders": 0},
        {"date": "2026-11-18", "revenue": "29.00", "orders": 1},
    ]


@pytest.mark.parametrize(
    ("url", "errors"),
    [
        ("/api/v1/reports/channels/?model=best", {"model"}),
        ("/api/v1/reports/channels/?processor=paypal", {"processor"}),
        ("/api/v1/reports/channels/?group_by=country", {"group_by"}),
        ("/api/v1/reports/channels/?start=2026-11-20&end=2026-11-01", {"start"}),
        ("/api/v1/reports/channels/?start=yesterday", {"start"}),
        ("/api/v1/reports/channels/?start=2020-01-01&end=2026-01-01", {"start"}),
        ("/api/v1/reports/revenue-daily/?days=0", {"days"}),
        ("/api/v1/reports/revenue-daily/?days=5&start=2026-11-01", {"days"}),
    ],
)
def test_bad_parameters_are_field_errors(shop, api_client, url, errors):
    response = api_client.get(url)
    assert response.status_code == 400
    assert set(response.json()) == errors
    assert all(isinstance(m, list) and m for m in response.json().values())


def test_reports_are_tenant_isolated_and_need_a_key(shop, api_client):
    other = WorkspaceFactory()
    TouchFactory(workspace=other, visitor_id="zed", occurred_at=NOW - timedelta(days=1), channel="Google")
    sale(other, visitor="zed", amount=99900)
    body = api_client.get("/api/v1/reports/channels/").json()
    assert "Google" not in {r["channel"] for r in body["rows"]}
    assert body["totals"] == {"visitors": 3, "conversions": "3.00", "revenue": "134.00"}
    assert api_client.get("/api/v1/reports/revenue-daily/").json()["days"][-1]["revenue"] == "5.00"
    assert APIClient().get("/api/v1/reports/channels/").status_code == 401
    assert APIClient().get("/api/v1/reports/revenue-daily/").status_code == 401


def test_a_touch_committed_out_of_id_order_is_still_folded(workspace, api_client):
    """Ids are allocated before commit: a touch with a lower id can appear after a fold saw higher ones."""
    placeholder = TouchFactory(
        workspace=workspace,
        visitor_id="late",
        occurred_at=NOW - timedelta(days=1),
        channel="Newsletter",
        channel_group="Email",
    )
    late_id = placeholder.pk
    placeholder.delete()  # its transaction "has not committed yet"
    TouchFactory(
        workspace=workspace,
        visitor_id="early",
        occurred_at=NOW - timedelta(days=1),
        channel="Newsletter",
        channel_group="Email",
    )
    visitor_sets_sync(workspace=workspace)
    TouchFactory(
        workspace=workspace,
        pk=late_id,
        visitor_id="late",
        occurred_at=NOW - timedelta(days=1),
        channel="Newsletter",
        channel_group="Email",
    )  # now it commits, with the lower id
    visitor_sets_sync(workspace=workspace)
    visitor_sets_sync(workspace=workspace)
    from attribution.models import AttributionState, Touch

    assert AttributionState.objects.get(workspace=workspace).touches_through >= Touch.objects.latest("pk").pk
    rows = api_client.get("/api/v1/reports/channels/").json()["rows"]
    assert rows == [{"channel": "Newsletter", "visitors": 2, "conversions": "0.00", "revenue": "0.00"}]


def test_report_amounts_are_labelled_with_the_currency_the_rollups_hold(shop, api_client):
    # The rollups hold USD: a reporting currency other than USD (none can be chosen yet) must not relabel them.
    type(shop).objects.filter(pk=shop.pk).update(reporting_currency="JPY")
    channels = api_client.get("/api/v1/reports/channels/").json()
    assert (channels["currency"], channels["totals"]["revenue"]) == ("USD", "134.00")
    daily = api_client.get("/api/v1/reports/revenue-daily/?days=1").json()
    assert (daily["currency"], daily["days"][0]["revenue"]) == ("USD", "5.00")
