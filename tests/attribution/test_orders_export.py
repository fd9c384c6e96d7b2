"""GET /api/v1/orders/export/ and the Orders page's download (CONTRACTS.md §5): every order of a period
with its credits under every model and its partner, streamed as CSV or NDJSON in constant memory, adding
up to the channel report."""

import csv
import io
import json
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from attribution.apis import CSV_HEADER
from attribution.credit_models import MODELS
from attribution.services.conversions import conversion_record
from attribution.services.recompute import rollups_build
from integrations.models import Order
from tests.attribution.sales import refund
from tests.factories.affiliates import CommissionFactory, PartnerFactory, ProgramFactory
from tests.factories.engine import T0, ConnectionFactory, OrderFactory, TouchFactory
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

NOVEMBER = "start=2026-11-01&end=2026-11-30"


@pytest.fixture
def sales(workspace):
    """A two-touch sale a partner earns (partly refunded), an unattributed EUR sale and an unpaid order."""
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=3), channel="Newsletter")
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=1), channel="Facebook")
    referred = OrderFactory(workspace=workspace, visitor_id="vis", matched_by="metadata", amount_minor=5900)
    conversion_record(order_id=referred.pk)
    referred = refund(referred, 1000)
    partner = PartnerFactory(program=ProgramFactory(workspace=workspace), name="Acme Blog")
    CommissionFactory(workspace=workspace, partner=partner, program=partner.program, order=referred, full_minor=980)
    euros = OrderFactory(
        workspace=workspace, currency="EUR", amount_minor=4000, amount_usd_minor=4321, placed_at=T0 + timedelta(hours=1)
    )
    conversion_record(order_id=euros.pk)
    unpaid = OrderFactory(workspace=workspace, status="pending", paid_at=None, placed_at=T0 + timedelta(hours=2))
    return referred, euros, unpaid, partner


def _ndjson(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_ndjson_lines_are_the_orders_api_rows_with_usd_revenue_per_credit(workspace, api_client, sales):
    referred, euros, unpaid, partner = sales
    response = api_client.get(f"/api/v1/orders/export/?{NOVEMBER}&format=ndjson")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="trackrev-orders-2026-11-01-2026-11-30.ndjson"'
    lines = _ndjson(response)
    assert [line["id"] for line in lines] == [referred.pk, euros.pk, unpaid.pk]  # by id, not newest first
    first = lines[0]
    assert (first["amount"], first["amount_usd"], first["refunded"], first["revenue_usd"]) == (
        "59.00",
        "59.00",
        "10.00",
        "49.00",
    )
    assert first["credits"]["linear"] == [
        {"channel": "Facebook", "weight": "0.500000", "revenue_usd": "24.50"},
        {"channel": "Newsletter", "weight": "0.500000", "revenue_usd": "24.50"},
    ]
    assert first["credits"]["time_decay"] == [
        {"channel": "Facebook", "weight": "0.549349", "revenue_usd": "26.92"},
        {"channel": "Newsletter", "weight": "0.450651", "revenue_usd": "22.08"},
    ]
    assert first["partner"] == {
        "id": partner.public_id,
        "name": "Acme Blog",
        "commission": "9.80",
        "status": "pending",
        "reason": "Last partner link clicked.",
    }
    assert lines[1]["credits"] == {
        m: [{"channel": "Unattributed", "weight": "1.000000", "revenue_usd": "43.21"}] for m in MODELS
    }
    assert (lines[1]["amount"], lines[1]["currency"], lines[1]["partner"]) == ("40.00", "EUR", None)
    assert (lines[2]["revenue_usd"], lines[2]["credits"]) == ("0.00", {m: [] for m in MODELS})

    # Shaped like GET /api/v1/orders/: the same fields and formats, plus the USD revenue.
    listed = {row["id"]: row for row in api_client.get(f"/api/v1/orders/?{NOVEMBER}").json()["results"]}
    for line in lines:
        revenue = line.pop("revenue_usd")
        assert revenue
        for model_credits in line["credits"].values():
            for credit in model_credits:
                del credit["revenue_usd"]
        assert line == listed[line["id"]]


def test_csv_has_one_row_per_order_and_a_credits_column_per_model(workspace, api_client, sales):
    referred, euros, unpaid, partner = sales
    response = api_client.get(f"/api/v1/orders/export/?{NOVEMBER}")  # CSV is the default

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="trackrev-orders-2026-11-01-2026-11-30.csv"'
    body = b"".join(response.streaming_content).decode()
    assert next(csv.reader(io.StringIO(body))) == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["id"]) for r in rows] == [referred.pk, euros.pk, unpaid.pk]
    first = rows[0]
    assert {k: first[k] for k in ("external_id", "status", "currency", "amount", "refunded", "revenue_usd")} == {
        "external_id": referred.external_id,
        "status": "partially_refunded",
        "currency": "USD",
        "amount": "59.00",
        "refunded": "10.00",
        "revenue_usd": "49.00",
    }
    assert (first["visitor_id"], first["matched_by"], first["placed_at"]) == ("vis", "metadata", "2026-11-01T12:00:00Z")
    assert (first["partner_id"], first["partner_name"], first["partner_commission"], first["partner_status"]) == (
        partner.public_id,
        "Acme Blog",
        "9.80",
        "pending",
    )
    assert first["credits_last_touch"] == "Facebook:1.000000:49.00"
    assert first["credits_first_touch"] == "Newsletter:1.000000:49.00"
    assert first["credits_linear"] == "Facebook:0.500000:24.50; Newsletter:0.500000:24.50"
    assert first["credits_time_decay"] == "Facebook:0.549349:26.92; Newsletter:0.450651:22.08"
    assert rows[1]["credits_position_based"] == "Unattributed:1.000000:43.21" and rows[1]["partner_id"] == ""
    assert (rows[2]["paid_at"], rows[2]["revenue_usd"], rows[2]["credits_linear"]) == ("", "0.00", "")


def test_period_defaults_filters_and_other_workspaces(workspace, api_client, sales):
    stripe = OrderFactory(workspace=workspace, processor="stripe", placed_at=T0 + timedelta(days=3))
    early = OrderFactory(workspace=workspace, placed_at=T0 - timedelta(days=40))
    stranger = OrderFactory(workspace=WorkspaceFactory(), placed_at=T0)

    with time_machine.travel(datetime(2026, 11, 20, 15, tzinfo=UTC), tick=False):
        response = api_client.get("/api/v1/orders/export/")  # the reports' default: the last 30 days
    assert response["Content-Disposition"] == 'attachment; filename="trackrev-orders-2026-10-22-2026-11-20.csv"'
    ids = [int(r["id"]) for r in _csv(response)]
    assert stripe.pk in ids and len(ids) == 4 and early.pk not in ids and stranger.pk not in ids
    only_stripe = api_client.get(f"/api/v1/orders/export/?{NOVEMBER}&processor=stripe&format=ndjson")
    assert [line["id"] for line in _ndjson(only_stripe)] == [stripe.pk]
    everything = _ndjson(api_client.get("/api/v1/orders/export/?start=2026-01-01&end=2026-12-31&format=ndjson"))
    assert {line["id"] for line in everything} == set(
        Order.objects.filter(workspace=workspace).values_list("pk", flat=True)
    )

    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(workspace=stranger.workspace, name='t').raw_key}")
    assert [r["id"] for r in _csv(theirs.get(f"/api/v1/orders/export/?{NOVEMBER}"))] == [str(stranger.pk)]
    assert APIClient().get("/api/v1/orders/export/").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("start=2026-11-30&end=2026-11-01", "start"),
        ("start=2024-01-01&end=2026-11-30", "start"),  # over 731 days
        ("format=xlsx", "format"),
        ("format=", "format"),
        ("processor=paypal", "processor"),
    ],
)
def test_bad_parameters_are_field_errors(api_client, query, field):
    response = api_client.get(f"/api/v1/orders/export/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [field]


def test_the_orders_page_downloads_its_own_filters(workspace, owner_client, client, sales):
    referred, euros, unpaid, _ = sales
    page = owner_client.get("/app/orders/?status=paid&processor=polar").content.decode()
    assert 'href="/app/orders/export/?status=paid&amp;processor=polar&amp;format=csv"' in page
    assert 'href="/app/orders/export/?status=paid&amp;processor=polar&amp;format=ndjson"' in page

    response = owner_client.get("/app/orders/export/?status=paid&processor=polar")
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="trackrev-orders-all.csv"'
    assert [int(r["id"]) for r in _csv(response)] == [euros.pk]
    response = owner_client.get("/app/orders/export/?start=2026-11-01&format=ndjson")
    assert response["Content-Disposition"] == 'attachment; filename="trackrev-orders-from-2026-11-01.ndjson"'
    lines = _ndjson(response)
    assert [line["id"] for line in lines] == [referred.pk, euros.pk, unpaid.pk]
    assert lines[0]["partner"]["name"] == "Acme Blog"

    bad = owner_client.get("/app/orders/export/?start=2026-11-30&end=2026-11-01&format=pdf")
    assert bad.status_code == 400
    assert (
        "end: Must be on or after the start date." in bad.content.decode()
        and "format: Choose one of" in bad.content.decode()
    )
    OrderFactory(workspace=WorkspaceFactory(), placed_at=T0)
    assert len(_csv(owner_client.get("/app/orders/export/"))) == 3  # its own workspace only
    client.logout()
    assert client.get("/app/orders/export/").status_code == 302  # to the login page


# --- 100,000 orders ----------------------------------------------------------------------------------

CHANNELS = ["Newsletter", "Facebook", "Google Ads", "Direct", "Partner blog"]
FIRST_DAY = date(2026, 8, 1)
PER_DAY = 1000


def _bulk_orders(workspace, count: int) -> None:
    """`count` orders, PER_DAY a day from FIRST_DAY: 1 in 10 unpaid, 1 in 10 partly refunded, 1 in 4 in
    EUR. Each paid order has credits under every model from one touch, or two for 1 in 3 (split as the
    engine splits them: touch `b` gets what touch `a` leaves), and the rollups are built from them as a
    recompute builds them."""
    conn = ConnectionFactory(workspace=workspace)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO integrations_order (
                workspace_id, connection_id, processor, external_id, kind, status, currency, amount_minor,
                tax_minor, amount_usd_minor, refunded_minor, refunded_usd_minor, placed_at, paid_at, visitor_ref,
                visitor_id, matched_by, subscription_external_id, customer_email_digest, customer_email_domain,
                discount_codes, first_seen_via, source_updated_at, created_at, updated_at)
            SELECT %(ws)s, %(conn)s, 'polar', 'bulk_' || g, 'one_time',
                CASE g %% 10 WHEN 0 THEN 'pending' WHEN 1 THEN 'partially_refunded' ELSE 'paid' END,
                CASE WHEN g %% 4 = 0 THEN 'EUR' ELSE 'USD' END, amount, 0,
                CASE WHEN g %% 4 = 0 THEN amount * 108 / 100 ELSE amount END,
                CASE g %% 10 WHEN 1 THEN 500 ELSE 0 END,
                CASE g %% 10 WHEN 1 THEN CASE WHEN g %% 4 = 0 THEN 540 ELSE 500 END END,
                placed, CASE WHEN g %% 10 = 0 THEN NULL ELSE placed END, '', 'v' || g, 'metadata', '', '', '',
                '[]', 'webhook', placed, placed, placed
            FROM generate_series(0, %(count)s - 1) AS g,
                LATERAL (SELECT 1000 + (g %% 97) * 13 AS amount,
                    %(first)s::timestamptz + (g / %(per_day)s) * interval '1 day'
                        + (g %% %(per_day)s) * interval '1 minute' AS placed) AS o
            """,
            {"ws": workspace.pk, "conn": conn.pk, "count": count, "first": f"{FIRST_DAY}T00:00Z", "per_day": PER_DAY},
        )
        cursor.execute(
            """
            INSERT INTO attribution_credit (
                workspace_id, order_id, version, model, channel, channel_group, campaign, weight,
                revenue_usd_minor, revenue_minor, currency, processor, day)
            SELECT o.workspace_id, o.id, 1, m.model,
                (%(channels)s::text[])[1 + (o.id + CASE m.touch WHEN 'a' THEN 0 ELSE 2 END) %% 5],
                'Referral', '', m.weight,
                CASE m.touch WHEN 'a' THEN usd * m.weight / 1000000 ELSE usd - usd * (1000000 - m.weight) / 1000000 END,
                CASE m.touch WHEN 'a' THEN net * m.weight / 1000000 ELSE net - net * (1000000 - m.weight) / 1000000 END,
                o.currency, o.processor, (o.placed_at AT TIME ZONE 'UTC')::date
            FROM (SELECT *, amount_usd_minor - COALESCE(refunded_usd_minor, 0) AS usd,
                      amount_minor - refunded_minor AS net
                  FROM integrations_order WHERE workspace_id = %(ws)s AND status <> 'pending') AS o
            JOIN (VALUES (2, 'last_touch', 'a', 1000000), (2, 'first_touch', 'b', 1000000),
                    (2, 'linear', 'a', 500000), (2, 'linear', 'b', 500000),
                    (2, 'position_based', 'a', 500000), (2, 'position_based', 'b', 500000),
                    (2, 'time_decay', 'a', 549349), (2, 'time_decay', 'b', 450651),
                    (1, 'last_touch', 'a', 1000000), (1, 'first_touch', 'a', 1000000), (1, 'linear', 'a', 1000000),
                    (1, 'position_based', 'a', 1000000), (1, 'time_decay', 'a', 1000000)
                ) AS m (touches, model, touch, weight) ON m.touches = CASE WHEN o.id %% 3 = 0 THEN 2 ELSE 1 END
            """,
            {"ws": workspace.pk, "channels": CHANNELS},
        )
    rollups_build(workspace=workspace, version=1)


def _export(api_client, start: date, end: date):
    return api_client.get(f"/api/v1/orders/export/?start={start}&end={end}").streaming_content


def _peak_while_streaming(api_client, start: date, end: date) -> tuple[int, int]:
    """(lines, the peak of traced memory while the CSV export of [start, end] streamed). The consumer
    keeps nothing and does next to nothing: tracing makes every allocation slow."""
    tracemalloc.start()
    lines = sum(chunk.count(b"\n") for chunk in _export(api_client, start, end))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines, peak


def _cents(amount: str) -> int:
    return int(amount.replace(".", ""))  # USD: always two decimals


def _export_sums(api_client, start: date, end: date) -> tuple[int, Counter, int]:
    """(orders, USD cents per model and channel, revenue_usd cents) of the CSV export of [start, end]."""
    revenue_at = CSV_HEADER.index("revenue_usd")
    credits_at = [(model, CSV_HEADER.index(f"credits_{model}")) for model in MODELS]
    chunks = iter(_export(api_client, start, end))
    assert next(chunks).decode().rstrip() == ",".join(CSV_HEADER)
    orders, per_channel, revenue = 0, Counter(), 0
    for chunk in chunks:
        for row in csv.reader(io.StringIO(chunk.decode())):
            orders += 1
            revenue += _cents(row[revenue_at])
            for model, at in credits_at:
                for entry in filter(None, row[at].split("; ")):
                    channel, _, usd = entry.rsplit(":", 2)
                    per_channel[model, channel] += _cents(usd)
    return orders, per_channel, revenue


def _report_cents(api_client, start: date, end: date, model: str) -> tuple[Counter, int]:
    body = api_client.get(f"/api/v1/reports/channels/?start={start}&end={end}&model={model}").json()
    rows = Counter({(model, r["channel"]): _cents(r["revenue"]) for r in body["rows"]})
    return rows, _cents(body["totals"]["revenue"])


@pytest.mark.postgres
def test_a_hundred_thousand_orders_stream_in_constant_memory_and_add_up_to_the_reports(workspace, api_client):
    _bulk_orders(workspace, 100 * PER_DAY)
    last_day, fourth_day = FIRST_DAY + timedelta(days=99), FIRST_DAY + timedelta(days=3)

    _peak_while_streaming(api_client, FIRST_DAY, FIRST_DAY)  # what a process's first request sets up once
    small_lines, small_peak = _peak_while_streaming(api_client, FIRST_DAY, fourth_day)  # two batches
    lines, peak = _peak_while_streaming(api_client, FIRST_DAY, last_day)
    # 25 times the orders in the same memory: one batch at a time, never the whole file.
    assert (small_lines, lines) == (4 * PER_DAY + 1, 100 * PER_DAY + 1)  # and the header
    assert peak < small_peak * 1.25, (small_peak, peak)

    orders, per_channel, revenue = _export_sums(api_client, FIRST_DAY, last_day)
    assert orders == Order.objects.filter(workspace=workspace).count() == 100 * PER_DAY
    for model in MODELS:
        rows, total = _report_cents(api_client, FIRST_DAY, last_day, model)
        assert +Counter({k: v for k, v in per_channel.items() if k[0] == model}) == +rows
        assert revenue == total
    assert sum(per_channel.values()) == 5 * revenue
