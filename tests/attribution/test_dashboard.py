"""Dashboard pages for a logged-in member: overview, CSV export, orders, order detail, settings."""

import csv
import io
import re
from datetime import timedelta

import pytest

from attribution.models import RecomputeRun
from attribution.services.conversions import conversion_record
from integrations.models import Order, Refund
from tests.attribution.sales import NOW, frozen_today, refund, sale  # noqa: F401 (autouse fixture)
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
    body = html.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def test_overview_shows_the_chart_and_top_channels(shop, owner_client):
    response = owner_client.get("/app/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Revenue per day · last 30 days" in html and "Top channels · last 30 days" in html
    assert html.count('class="chart-bar"') == 30
    assert table_rows(html, "channels") == [
        ["Facebook", "1", "1", "USD 100.00", "58.1%"],
        ["Unattributed", "0", "1", "USD 43.20", "25.1%"],
        ["YouTube", "1", "1", "USD 29.00", "16.8%"],
        ["Newsletter", "1", "0", "USD 0.00", "0.0%"],
    ]
    assert 'data-testid="total-revenue">USD 172.20' in html
    assert "<script" not in html and "style=" not in html  # CSP: no inline script or style


def test_switching_model_and_processor_changes_the_numbers(shop, owner_client):
    html = owner_client.get("/app/?model=first_touch").content.decode()
    assert table_rows(html, "channels")[0] == ["Newsletter", "1", "1", "USD 100.00", "58.1%"]
    html = owner_client.get("/app/?model=linear&processor=polar").content.decode()
    assert table_rows(html, "channels")[:2] == [
        ["Facebook", "1", "0.50", "USD 50.00", "50.0%"],
        ["Newsletter", "1", "0.50", "USD 50.00", "50.0%"],
    ]
    assert 'data-testid="total-revenue">USD 100.00' in html


def test_presets_custom_range_group_by_and_comparison(shop, owner_client):
    html = owner_client.get("/app/?range=7").content.decode()
    assert "Top channels · last 7 days" in html
    html = owner_client.get("/app/?range=custom&start=2026-11-18&end=2026-11-18").content.decode()
    assert [r[0] for r in table_rows(html, "channels")][:1] == ["YouTube"]
    html = owner_client.get("/app/?range=custom&start=2026-11-18").content.decode()
    assert '<ul class="errorlist" id="id_end_error"><li>Choose an end date.</li></ul>' in html
    html = owner_client.get("/app/?range=mtd&group_by=channel_group&compare=on").content.decode()
    assert "Top channel groups · month to date" in html
    comparison = table_rows(html, "comparison")
    assert [r[0] for r in comparison] == ["Email", "Organic Social", "Unattributed", "Organic Video"]
    # last touch, first touch, linear, position based, time decay
    assert comparison[0][1:4] == ["USD 0.00", "USD 100.00", "USD 50.00"]
    assert comparison[1][1:4] == ["USD 100.00", "USD 0.00", "USD 50.00"]


def chart_tooltips(html: str) -> list[str]:
    svg = html.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r"<title>(.*?)</title>", svg)


def test_the_chart_follows_the_period_and_the_processor(shop, owner_client):
    html = owner_client.get("/app/?range=custom&start=2026-11-11&end=2026-11-19").content.decode()
    assert "Revenue per day · Nov 11, 2026 to Nov 19, 2026" in html
    tooltips = chart_tooltips(html)
    assert len(tooltips) == 9 and html.count('class="chart-bar"') == 9
    assert tooltips[0] == "Nov 11, 2026: USD 0.00 · 0 orders"
    assert tooltips[-2:] == ["Nov 18, 2026: USD 29.00 · 1 order", "Nov 19, 2026: USD 100.00 · 1 order"]
    assert 'data-testid="chart-total">USD 129.00</span> · 2 orders' in html  # today's paddle sale is outside

    html = owner_client.get("/app/?range=custom&start=2026-11-11&end=2026-11-19&processor=stripe").content.decode()
    assert chart_tooltips(html)[-2:] == ["Nov 18, 2026: USD 29.00 · 1 order", "Nov 19, 2026: USD 0.00 · 0 orders"]
    assert 'data-testid="chart-total">USD 29.00</span> · 1 order · Last touch · Stripe' in html


def test_the_chart_has_a_bar_per_day_up_to_60_days_and_per_week_beyond(shop, owner_client):
    html = owner_client.get("/app/?range=custom&start=2026-09-22&end=2026-11-20").content.decode()
    assert "Revenue per day · Sep 22, 2026 to Nov 20, 2026" in html and len(chart_tooltips(html)) == 60
    html = owner_client.get("/app/?range=90").content.decode()
    assert "Revenue per week · last 90 days" in html
    tooltips = chart_tooltips(html)
    assert len(tooltips) == 13  # weeks from Aug 23, the last one six days long
    assert tooltips[0] == "Aug 23, 2026 to Aug 29, 2026: USD 0.00 · 0 orders"
    assert tooltips[-1] == "Nov 15, 2026 to Nov 20, 2026: USD 172.20 · 3 orders"
    assert 'data-testid="chart-total">USD 172.20</span> · 3 orders' in html


def test_a_bad_period_is_an_error_next_to_its_dates_and_reports_nothing(shop, owner_client):
    html = owner_client.get("/app/?range=custom&start=2026-11-18&end=2026-11-10&model=linear").content.decode()
    end = html.split('<label for="id_end">', 1)[1].split("</div>", 1)[0]
    assert '<ul class="errorlist" id="id_end_error"><li>Must be on or after the start date.</li></ul>' in end
    assert 'value="2026-11-10" aria-invalid="true"' in end  # the input is kept, marked invalid
    assert 'name="start" value="2026-11-18"' in html and '<option value="linear" selected>' in html
    assert "Nothing to show for these filters" in html
    assert 'id="channels"' not in html and '<svg class="chart"' not in html  # no numbers for another period
    export = owner_client.get("/app/export.csv?range=custom&start=2026-11-18&end=2026-11-10")
    assert export.status_code == 400 and b"Must be on or after the start date." in export.content

    html = owner_client.get("/app/orders/?start=2026-11-18&end=2026-11-10").content.decode()
    assert '<ul class="errorlist" id="id_end_error"><li>Must be on or after the start date.</li></ul>' in html
    assert "Nothing to show for these filters" in html and 'id="orders"' not in html


def test_conversions_are_whole_under_single_touch_models_and_split_under_linear(shop, owner_client):
    for model in ("last_touch", "first_touch"):
        html = owner_client.get(f"/app/?model={model}").content.decode()
        assert sorted(r[2] for r in table_rows(html, "channels")) == ["0", "1", "1", "1"]
        assert 'data-testid="total-conversions">3<' in html
    html = owner_client.get("/app/?model=linear").content.decode()
    assert sorted(r[2] for r in table_rows(html, "channels")) == ["0.50", "0.50", "1.00", "1.00"]
    assert 'data-testid="total-conversions">3.00<' in html
    export = owner_client.get("/app/export.csv?model=last_touch").content.decode()
    assert [row[2] for row in csv.reader(io.StringIO(export))] == ["conversions", "1", "1", "1", "0", "3"]


def test_the_visitors_total_counts_each_visitor_once_and_says_so(shop, owner_client):
    html = owner_client.get("/app/").content.decode()
    assert sum(int(r[1]) for r in table_rows(html, "channels")) == 3  # ann came through Newsletter and Facebook
    assert 'data-testid="total-visitors">2<sup>*</sup>' in html
    assert "counted under each of them, and once in the total" in html
    html = owner_client.get("/app/?range=custom&start=2026-11-17&end=2026-11-17").content.decode()  # bob only
    assert 'data-testid="total-visitors">1<' in html and "once in the total" not in html


def test_native_currency_totals_per_processor(shop, owner_client):
    rows = table_rows(owner_client.get("/app/").content.decode(), "native")
    assert rows == [["Paddle", "EUR 40.00"], ["Polar", "USD 100.00"], ["Stripe", "USD 29.00"]]


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


def test_an_empty_period_of_a_workspace_with_sales_shows_an_empty_chart_not_the_first_steps(shop, owner_client):
    html = owner_client.get("/app/?range=custom&start=2026-10-01&end=2026-10-07").content.decode()
    assert "No revenue to attribute yet" not in html
    assert chart_tooltips(html)[0] == "Oct 1, 2026: USD 0.00 · 0 orders"
    assert "Nothing in this period" in html


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


def test_refunded_orders_say_so_in_the_list_the_detail_and_the_status_filter(shop, owner_client):
    polar = refund(Order.objects.get(workspace=shop, processor="polar"), 10000)
    stripe = refund(Order.objects.get(workspace=shop, processor="stripe"), 900)
    rows = table_rows(owner_client.get("/app/orders/").content.decode(), "orders")
    assert [(r[1], r[4], r[7]) for r in rows] == [
        ("Paddle", "Paid", ""),
        ("Polar", "Refunded", "USD 100.00"),
        ("Stripe", "Partially refunded", "USD 9.00"),
    ]
    assert '<dd id="status">Refunded</dd>' in owner_client.get(f"/app/orders/{polar.pk}/").content.decode()
    assert '<dd id="status">Partially refunded</dd>' in owner_client.get(f"/app/orders/{stripe.pk}/").content.decode()
    for status, shown in [("paid", ["Paddle"]), ("refunded", ["Polar"]), ("partially_refunded", ["Stripe"])]:
        html = owner_client.get(f"/app/orders/?status={status}").content.decode()
        assert [r[1] for r in table_rows(html, "orders")] == shown


def test_every_amount_is_shown_in_its_own_currency(shop, owner_client, admin_client):
    yen = sale(shop, processor="stripe", currency="JPY", amount=150000, amount_usd_minor=100300, refunded_minor=500)
    type(shop).objects.filter(pk=shop.pk).update(reporting_currency="EUR")  # the reports still hold USD

    rows = table_rows(owner_client.get("/app/orders/").content.decode(), "orders")
    assert [(r[5], r[6], r[7]) for r in rows] == [
        ("JPY 150,000", "USD 1,003.00", "JPY 500"),  # JPY has no decimals
        ("EUR 40.00", "USD 43.20", ""),
        ("USD 100.00", "USD 100.00", ""),
        ("USD 29.00", "USD 29.00", ""),
    ]
    detail = owner_client.get(f"/app/orders/{yen.pk}/").content.decode()
    assert "JPY 150,000 · USD 1,003.00" in detail and "<dd>JPY 500</dd>" in detail
    assert table_rows(detail, "credits")[0][-1] == "USD 1,003.00"
    overview = owner_client.get("/app/").content.decode()
    assert 'data-testid="chart-total">USD 1,175.20' in overview and "EUR 1,175.20" not in overview
    assert table_rows(overview, "channels")[0] == ["Unattributed", "0", "2", "USD 1,046.20", "89.0%"]
    assert table_rows(overview, "native")[-1] == ["Stripe", "USD 29.00"]
    assert table_rows(overview, "native")[-2] == ["Stripe", "JPY 149,500"]  # net of the refund
    admin_orders = admin_client.get("/admin/integrations/order/").content.decode()
    assert "JPY 150,000" in admin_orders and "EUR 40.00" in admin_orders and "JPY 500" in admin_orders


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
    assert table_rows(html, "credits")[0] == ["Last touch", "Facebook", "100.0%", "USD 100.00"]
    assert path[0][0] == "Nov 14, 2026, 15:00 UTC"
    assert "<dd>Nov 19, 2026, 14:00 UTC</dd>" in html  # placed
    assert table_rows(html, "refunds") == [["Nov 20, 2026, 15:00 UTC", "Succeeded", "USD 10.00"]]


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
    assert '<option value="30" selected>' in html and "Top channels · last 30 days" in html


def test_credits_to_two_campaigns_of_one_channel_name_each_campaign(workspace, owner_client):
    for days, campaign in ((5, "black-friday"), (2, "weekly-digest")):
        TouchFactory(
            workspace=workspace,
            visitor_id="cy",
            occurred_at=NOW - timedelta(days=days),
            channel="Newsletter",
            channel_group="Email",
            campaign=campaign,
        )
    order = sale(workspace, visitor="cy", amount=10000, days_ago=1, matched_by="metadata")

    credits = table_rows(owner_client.get(f"/app/orders/{order.pk}/").content.decode(), "credits")
    start = [row[0] for row in credits].index("Linear")
    linear = sorted(row[1] for row in credits[start : start + 2])
    assert linear == ["Newsletter · black-friday", "Newsletter · weekly-digest"]
