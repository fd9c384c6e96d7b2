"""Dashboard pages for a logged-in member: overview, CSV export, orders, order detail, settings."""

import csv
import io
from datetime import timedelta

import pytest

from attribution.models import RecomputeRun
from attribution.services.conversions import conversion_record
from integrations.models import Refund
from tests.attribution.sales import NOW, frozen_today, sale  # noqa: F401 (autouse fixture)
from tests.factories.engine import IdentityFactory, OrderFactory, TouchFactory
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(workspace):
    TouchFactory(
        workspace=workspace,
        visitor_id="ann",
        occurred_at=NOW - timedelta(days=6),
        channel="Newsletter",
        channel_group="Email",
        landing_url="https://demo.test/?utm_source=newsletter",
    )
    TouchFactory(
        workspace=workspace,
        visitor_id="ann",
        occurred_at=NOW - timedelta(days=2),
        channel="Facebook",
        channel_group="Organic Social",
        referrer="https://www.facebook.com/",
    )
    TouchFactory(
        workspace=workspace,
        visitor_id="bob",
        occurred_at=NOW - timedelta(days=3),
        channel="YouTube",
        channel_group="Organic Video",
    )
    sale(workspace, visitor="ann", amount=10000, days_ago=1, matched_by="metadata")
    sale(workspace, visitor="bob", processor="stripe", amount=2900, days_ago=2, matched_by="metadata")
    sale(workspace, processor="paddle", currency="EUR", amount=4000, amount_usd_minor=4320, days_ago=0)
    return workspace


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts (a tiny parser, enough for our own markup)."""
    import re

    body = html.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def test_overview_shows_the_chart_and_top_channels(shop, owner_client):
    response = owner_client.get("/app/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Revenue · last 10 days" in html and "Top channels · 30 days" in html
    assert html.count('class="chart-bar"') == 10
    assert table_rows(html, "channels") == [
        ["Facebook", "1", "1.00", "100.00", "58.1%"],
        ["Unattributed", "0", "1.00", "43.20", "25.1%"],
        ["YouTube", "1", "1.00", "29.00", "16.8%"],
        ["Newsletter", "1", "0.00", "0.00", "0.0%"],
    ]
    assert "172.20" in html  # total revenue in USD
    assert "<script" not in html and "style=" not in html  # CSP: no inline script or style


def test_switching_model_and_processor_changes_the_numbers(shop, owner_client):
    html = owner_client.get("/app/?model=first_touch").content.decode()
    assert table_rows(html, "channels")[0] == ["Newsletter", "1", "1.00", "100.00", "58.1%"]
    html = owner_client.get("/app/?model=linear&processor=polar").content.decode()
    assert table_rows(html, "channels")[:2] == [
        ["Facebook", "1", "0.50", "50.00", "50.0%"],
        ["Newsletter", "1", "0.50", "50.00", "50.0%"],
    ]
    assert 'data-testid="total-revenue">100.00' in html


def test_presets_custom_range_group_by_and_comparison(shop, owner_client):
    html = owner_client.get("/app/?range=7").content.decode()
    assert "Top channels · 7 days" in html
    html = owner_client.get("/app/?range=custom&start=2026-11-18&end=2026-11-18").content.decode()
    assert [r[0] for r in table_rows(html, "channels")][:1] == ["YouTube"]
    html = owner_client.get("/app/?range=custom&start=2026-11-18").content.decode()
    assert "Choose a start and an end date" in html
    html = owner_client.get("/app/?range=mtd&group_by=channel_group&compare=on").content.decode()
    assert "Top channel groups · month to date" in html
    comparison = table_rows(html, "comparison")
    assert [r[0] for r in comparison] == ["Email", "Organic Social", "Unattributed", "Organic Video"]
    # last touch, first touch, linear, position based, time decay
    assert comparison[0][1:4] == ["0.00", "100.00", "50.00"]
    assert comparison[1][1:4] == ["100.00", "0.00", "50.00"]


def test_native_currency_totals_per_processor(shop, owner_client):
    rows = table_rows(owner_client.get("/app/").content.decode(), "native")
    assert rows == [["Paddle", "EUR", "40.00"], ["Polar", "USD", "100.00"], ["Stripe", "USD", "29.00"]]


def test_csv_export_is_what_is_shown(shop, owner_client):
    response = owner_client.get("/app/export.csv?model=linear&processor=polar")
    assert response["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["channel", "visitors", "conversions", "revenue_usd", "share"],
        ["Facebook", "1", "0.50", "50.00", "50.0"],
        ["Newsletter", "1", "0.50", "50.00", "50.0"],
        ["YouTube", "1", "0.00", "0.00", "0.0"],
        ["Total", "2", "1.00", "100.00", "100.0"],  # distinct visitors: ann counts once
    ]
    compare = owner_client.get("/app/export.csv?compare=on&processor=stripe").content.decode()
    assert list(csv.reader(io.StringIO(compare))) == [
        [
            "channel",
            "revenue_last_touch_usd",
            "revenue_first_touch_usd",
            "revenue_linear_usd",
            "revenue_position_based_usd",
            "revenue_time_decay_usd",
        ],
        ["YouTube", "29.00", "29.00", "29.00", "29.00", "29.00"],
    ]


def test_empty_workspace_says_what_to_do_next(owner_client):
    html = owner_client.get("/app/").content.decode()
    assert "No revenue to attribute yet" in html and "Paste the pixel" in html
    assert "No orders yet" in owner_client.get("/app/orders/").content.decode()


def test_pages_need_a_login(client, shop):
    for url in ["/app/", "/app/orders/", "/app/export.csv", "/app/settings/"]:
        assert client.get(url).status_code == 302


def test_orders_list_filters_and_paginates(shop, owner_client):
    html = owner_client.get("/app/orders/").content.decode()
    assert [r[1] for r in table_rows(html, "orders")] == ["Paddle", "Polar", "Stripe"]
    assert [r[8] for r in table_rows(html, "orders")] == ["Unattributed", "Facebook", "YouTube"]
    assert [r[1] for r in table_rows(owner_client.get("/app/orders/?processor=stripe").content.decode(), "orders")] == [
        "Stripe"
    ]
    assert [r[8] for r in table_rows(owner_client.get("/app/orders/?channel=facebook").content.decode(), "orders")] == [
        "Facebook"
    ]
    html = owner_client.get("/app/orders/?start=2026-11-19&end=2026-11-19&kind=one_time&status=paid").content.decode()
    assert [r[1] for r in table_rows(html, "orders")] == ["Polar"]
    for i in range(50):
        OrderFactory(workspace=shop, placed_at=NOW - timedelta(days=40, minutes=i))
    page1 = owner_client.get("/app/orders/").content.decode()
    assert len(table_rows(page1, "orders")) == 50 and "Page 1 of 2" in page1
    assert len(table_rows(owner_client.get("/app/orders/?page=2").content.decode(), "orders")) == 3


def test_every_amount_is_shown_in_its_own_currency(shop, owner_client, admin_client):
    yen = sale(shop, processor="stripe", currency="JPY", amount=1500, amount_usd_minor=1003, refunded_minor=500)
    type(shop).objects.filter(pk=shop.pk).update(reporting_currency="EUR")  # the reports still hold USD

    rows = table_rows(owner_client.get("/app/orders/").content.decode(), "orders")
    assert [(r[5], r[6], r[7]) for r in rows] == [
        ("1500 JPY", "10.03", "500 JPY"),  # JPY has no decimals
        ("40.00 EUR", "43.20", ""),
        ("100.00 USD", "100.00", ""),
        ("29.00 USD", "29.00", ""),
    ]
    detail = owner_client.get(f"/app/orders/{yen.pk}/").content.decode()
    assert "1500 JPY · 10.03 USD" in detail and "<dd>500 JPY</dd>" in detail
    overview = owner_client.get("/app/").content.decode()
    assert 'data-testid="chart-total">USD 182.23' in overview and "EUR 182.23" not in overview
    admin_orders = admin_client.get("/admin/integrations/order/").content.decode()
    assert "1500 JPY" in admin_orders and "40.00 EUR" in admin_orders and "500 JPY" in admin_orders


def test_order_page_explains_the_credit(shop, owner_client):
    order = OrderFactory._meta.model.objects.get(workspace=shop, processor="polar")
    Refund.objects.create(
        workspace=shop,
        connection=order.connection,
        external_id="re_1",
        order=order,
        order_external_id=order.external_id,
        status="succeeded",
        amount_minor=1000,
        currency="USD",
        refunded_at=NOW,
        source_updated_at=NOW,
    )
    html = owner_client.get(f"/app/orders/{order.pk}/").content.decode()
    path = table_rows(html, "path")
    # time, channel, landing, referrer, then last / first / linear / position based / time decay
    assert path[0][1].startswith("Newsletter") and path[0][2] == "https://demo.test/?utm_source=newsletter"
    assert path[0][4:] == ["0.0%", "100.0%", "50.0%", "50.0%", "40.2%"]
    assert path[1][4:] == ["100.0%", "0.0%", "50.0%", "50.0%", "59.8%"]
    assert "Checkout metadata" in html
    assert table_rows(html, "credits")[0] == ["Last touch", "Facebook", "100.0%", "100.00"]
    assert table_rows(html, "refunds") == [["2026-11-20 15:00", "Succeeded", "10.00 USD"]]


def test_order_page_of_an_email_match_and_of_another_workspace(shop, owner_client):
    IdentityFactory(workspace=shop, visitor_id="bob", email_digest="dg")
    order = sale(shop, customer_email_digest="dg", days_ago=1)
    html = owner_client.get(f"/app/orders/{order.pk}/").content.decode()
    assert "Identified email" in html and "identify()" in html and "Unverified" in html
    IdentityFactory(workspace=shop, visitor_id="bob", email_digest="dg", source="server")
    conversion_record(order_id=order.pk)
    html = owner_client.get(f"/app/orders/{order.pk}/").content.decode()
    assert "/api/v1/identify/" in html and "Unverified" not in html
    other = OrderFactory(workspace=WorkspaceFactory())
    assert owner_client.get(f"/app/orders/{other.pk}/").status_code == 404


def test_settings_change_of_lookback_starts_a_background_recompute(shop, owner_client, broker, committed):
    form = {
        "name": shop.name,
        "timezone": "UTC",
        "allowed_domains": "",
        "attribution_model": "linear",
        "lookback_days": "30",
    }
    with committed():
        owner_client.post("/app/settings/", form)
    broker.run()
    assert not RecomputeRun.objects.exists()  # the default model alone needs no recompute
    with committed():
        response = owner_client.post("/app/settings/", {**form, "lookback_days": "7"})
    assert response.status_code == 302
    html = owner_client.get("/app/settings/").content.decode()
    assert "Recomputing attribution (Lookback window 30 → 7 days):</strong> starting" in html
    assert "computed with a <strong>30-day</strong> lookback window" in html

    broker.run(count=1)  # the settings change reaches attribution
    run = RecomputeRun.objects.get(workspace=shop)
    assert (run.status, run.reason, run.total, run.lookback_days) == ("queued", "Lookback window 30 → 7 days", 3, 7)
    html = owner_client.get("/app/settings/").content.decode()
    assert "Recomputing attribution (Lookback window 30 → 7 days):</strong>\n  queued" in html
    assert "Recomputing attribution" in owner_client.get("/app/").content.decode()

    broker.run()
    html = owner_client.get("/app/settings/").content.decode()
    assert "Recomputing attribution" not in html
    assert "computed with a <strong>7-day</strong> lookback window" in html


def test_viewers_cannot_change_settings(shop, client):
    viewer = MembershipFactory(workspace=shop, role="viewer").user
    client.force_login(viewer)
    assert client.post("/app/settings/", {"lookback_days": "7"}).status_code == 403
    assert not RecomputeRun.objects.exists()


def test_the_unfiltered_form_shows_the_defaults_it_reports(shop, owner_client):
    shop.attribution_model = "time_decay"
    shop.save()
    html = owner_client.get("/app/").content.decode()
    assert '<option value="30" selected>' in html
    assert '<option value="time_decay" selected>' in html
    html = owner_client.get("/app/?compare=on").content.decode()  # a partial query keeps the other defaults
    assert '<option value="30" selected>' in html and "Top channels · 30 days" in html
