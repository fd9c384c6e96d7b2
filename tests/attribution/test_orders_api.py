"""GET /api/v1/orders/ rows carry `credits` per model (CONTRACTS.md §5)."""

import zoneinfo
from datetime import datetime, timedelta

import pytest

from attribution.services.conversions import conversion_record
from tests.attribution.sales import refund
from tests.factories.engine import T0, OrderFactory, TouchFactory
from tests.factories.workspaces import WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_orders_have_credits_per_model(workspace, api_client):
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=3), channel="Newsletter")
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=1), channel="Facebook")
    order = OrderFactory(workspace=workspace, visitor_id="vis", matched_by="metadata", amount_minor=4900)
    conversion_record(order_id=order.pk)
    unpaid = OrderFactory(workspace=workspace, status="pending", paid_at=None, placed_at=T0 - timedelta(days=5))
    conversion_record(order_id=unpaid.pk)
    OrderFactory(workspace=WorkspaceFactory())  # another tenant's order is never listed

    body = api_client.get("/api/v1/orders/").json()
    assert body["count"] == 2
    row = body["results"][0]
    assert (row["id"], row["amount"], row["amount_usd"], row["matched_by"]) == (order.pk, "49.00", "49.00", "metadata")
    assert row["credits"] == {
        "last_touch": [{"channel": "Facebook", "weight": "1.000000"}],
        "first_touch": [{"channel": "Newsletter", "weight": "1.000000"}],
        "linear": [{"channel": "Facebook", "weight": "0.500000"}, {"channel": "Newsletter", "weight": "0.500000"}],
        "position_based": [
            {"channel": "Facebook", "weight": "0.500000"},
            {"channel": "Newsletter", "weight": "0.500000"},
        ],
        "time_decay": [{"channel": "Facebook", "weight": "0.549349"}, {"channel": "Newsletter", "weight": "0.450651"}],
    }
    assert body["results"][1]["credits"] == {m: [] for m in row["credits"]}
    assert api_client.get("/api/v1/orders/?processor=stripe").json()["count"] == 0


def test_date_filters_count_the_workspaces_days_like_the_reports(workspace, api_client, owner_client):
    workspace.timezone = "America/New_York"
    workspace.save()
    new_york = zoneinfo.ZoneInfo("America/New_York")  # 5 hours behind UTC in November: days differ from UTC's
    late_18th = OrderFactory(
        workspace=workspace, external_id="ord_a", placed_at=datetime(2026, 11, 18, 22, tzinfo=new_york)
    )
    early_19th = OrderFactory(
        workspace=workspace, external_id="ord_b", placed_at=datetime(2026, 11, 19, 1, tzinfo=new_york)
    )
    late_19th = OrderFactory(
        workspace=workspace, external_id="ord_c", placed_at=datetime(2026, 11, 19, 23, tzinfo=new_york)
    )

    body = api_client.get("/api/v1/orders/?start=2026-11-19&end=2026-11-19").json()
    assert [row["id"] for row in body["results"]] == [late_19th.pk, early_19th.pk]
    assert [row["id"] for row in api_client.get("/api/v1/orders/?end=2026-11-18").json()["results"]] == [late_18th.pk]
    page = owner_client.get("/app/orders/?start=2026-11-19&end=2026-11-19").content.decode()
    assert "ord_b" in page and "ord_c" in page and "ord_a" not in page


def test_refunded_orders_have_their_status_and_the_status_filter_agrees(workspace, api_client):
    refunded = refund(OrderFactory(workspace=workspace, amount_minor=4900), 4900)
    partly = refund(OrderFactory(workspace=workspace, amount_minor=4900, placed_at=T0 - timedelta(days=1)), 900)
    paid = OrderFactory(workspace=workspace, placed_at=T0 - timedelta(days=2))

    rows = api_client.get("/api/v1/orders/").json()["results"]
    assert [(r["id"], r["status"], r["refunded"]) for r in rows] == [
        (refunded.pk, "refunded", "49.00"),
        (partly.pk, "partially_refunded", "9.00"),
        (paid.pk, "paid", "0.00"),
    ]
    for status, order in [("refunded", refunded), ("partially_refunded", partly), ("paid", paid)]:
        assert [r["id"] for r in api_client.get(f"/api/v1/orders/?status={status}").json()["results"]] == [order.pk]
    assert api_client.get("/api/v1/orders/?status=settled").status_code == 400
