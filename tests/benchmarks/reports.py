"""Reports: rollup-served channels and daily-revenue reports vs the best hand-written SQL over the raw
tables, same run, same database (docs/benchmarks.md, "Reports").

Data (seeded, loaded with COPY into a dedicated PostgreSQL database): 1,000,000 touches and 100,000
orders over 90 days in 10 workspaces, one holding 80%; credits computed by a full recompute (timed:
orders/s). For the big workspace, a 30-day range, every model:
  selector   channel_report / revenue_daily (rollups + visitor sets), in-process, warm
  raw SQL    psycopg, warm: revenue per channel from the credits table + COUNT(DISTINCT visitor_id)
             over the touches in range; revenue per day from the credits table
  HTTP       GET /api/v1/reports/channels/ and /revenue-daily/ through gunicorn (p95)
Both sides must return identical numbers. `BENCH_SCALE=0.1` runs a tenth of the data set.
"""

import hashlib
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

from tests.benchmarks.harness import ROOT, gunicorn, machine_lock

DB_URL = os.environ.get("BENCH_REPORTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trackrev_bench_reports")
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TOUCHES, ORDERS, DAYS, WORKSPACES = int(1_000_000 * SCALE), int(100_000 * SCALE), 90, 10
REPEAT, HTTP_REQUESTS = 25, 60
END = datetime(2026, 11, 26, tzinfo=UTC)  # the data set's last day (exclusive of time: touches end before)
RANGE = (date(2026, 10, 27), date(2026, 11, 25))  # 30 days
MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay")
GATE_RATIO, GATE_HTTP_P95_MS = 5.0, 100.0

# (weight, channel, group, campaigns)
CHANNELS = [
    (20, "Direct", "Direct", [""]),
    (16, "Google", "Organic Search", [""]),
    (6, "Google", "Paid Search", ["brand", "competitors", "generic"]),
    (12, "Newsletter", "Email", ["weekly", "launch", "black-friday", "onboarding"]),
    (8, "Facebook", "Organic Social", [""]),
    (5, "Facebook", "Paid Social", ["retargeting", "lookalike"]),
    (9, "YouTube", "Organic Video", [""]),
    (5, "ChatGPT", "AI Assistants", [""]),
    (4, "news.ycombinator.com", "Referral", [""]),
    (3, "Alice", "Affiliates", ["partner"]),
    (3, "Bob's Blog", "Affiliates", ["partner"]),
    (3, "X", "Organic Social", [""]),
    (6, "Reddit", "Organic Social", [""]),
]
PROCESSORS = [("polar", 40), ("stripe", 30), ("paddle", 15), ("lemonsqueezy", 15)]


def env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": "memory://",
        "PYTHONPATH": str(ROOT),
    }


def prepare() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env(), check=True)
    os.environ.update(env())
    import django

    django.setup()


def _copy(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def generate() -> dict:
    """Workspaces, connections, visitors, touches, identities, subscriptions and orders; returns ids."""
    from integrations.models import Order, ProcessorConnection
    from trackrev.workspaces.models import Workspace
    from trackrev.workspaces.services import api_key_create

    rng = random.Random(20261127)
    start = END - timedelta(days=DAYS)
    workspaces = [Workspace.objects.create(name=f"Bench {i}", plan="pro", lookback_days=30) for i in range(WORKSPACES)]
    shares = [0.8] + [0.2 / (WORKSPACES - 1)] * (WORKSPACES - 1)
    connections = {
        (ws.pk, p): ProcessorConnection.objects.create(
            workspace=ws,
            processor=p,
            api_token="t",
            webhook_secret="s",
            api_base_url="https://bench.invalid",
            status="disabled",
        )
        for ws in workspaces
        for p, _ in PROCESSORS
    }
    key = api_key_create(workspace=workspaces[0], name="bench").raw_key

    # Visitors in order of first visit (so their ids grow with time, as in production), ~2 touches each;
    # a few surplus touches are then dropped at random so that exactly TOUCHES remain.
    visitors, touches = [], []
    per_ws = {ws.pk: [] for ws in workspaces}
    weights = [c[0] for c in CHANNELS]
    firsts = sorted(start + timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(int(TOUCHES / 1.9)))
    for n, first in enumerate(firsts):
        ws = rng.choices(workspaces, shares)[0]
        vid = f"bv{n:08d}"
        visitors.append((ws.pk, vid, first))
        per_ws[ws.pk].append(vid)
        at = first
        for _ in range(min(1 + int(rng.expovariate(1 / 1.5)), 12)):
            if at >= END:
                break
            _, channel, group, campaigns = rng.choices(CHANNELS, weights)[0]
            touches.append(
                (
                    ws.pk,
                    vid,
                    at,
                    channel,
                    group,
                    rng.choice(campaigns),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "https://bench.test/",
                    "",
                    "",
                    "",
                )
            )
            at += timedelta(hours=rng.expovariate(1 / 60))
    drop = set(rng.sample(range(len(touches)), max(0, len(touches) - TOUCHES)))
    touches = [t for i, t in enumerate(touches) if i not in drop]
    last_touch = {}
    for touch in touches:
        last_touch[touch[1]] = max(last_touch.get(touch[1], touch[2]), touch[2])
    _copy("attribution_visitor", ["workspace_id", "visitor_id", "created_at"], visitors)
    _copy(
        "attribution_touch",
        [
            "workspace_id",
            "visitor_id",
            "occurred_at",
            "channel",
            "channel_group",
            "campaign",
            "source",
            "medium",
            "term",
            "content",
            "referrer",
            "landing_url",
            "click_id_type",
            "click_id",
            "partner_code",
        ],
        touches,
    )
    identities = [
        (ws_id, vid, hashlib.sha256(f"e{i // 2}".encode()).hexdigest(), END)
        for i, (ws_id, vid, _) in enumerate(visitors[::20])
    ]  # pairs of visitors share an email
    _copy("attribution_identity", ["workspace_id", "visitor_id", "email_digest", "created_at"], identities)

    orders, subscriptions = [], []
    sub_columns = [
        "workspace_id",
        "connection_id",
        "processor",
        "external_id",
        "status",
        "cancel_at_period_end",
        "visitor_id",
        "source_updated_at",
        "created_at",
        "updated_at",
    ]
    while len(orders) < ORDERS:
        ws = rng.choices(workspaces, shares)[0]
        vid = rng.choice(per_ws[ws.pk]) if per_ws[ws.pk] else ""
        placed = min(END - timedelta(seconds=1), last_touch.get(vid, start) + timedelta(hours=rng.uniform(0, 72)))
        processor = rng.choices([p for p, _ in PROCESSORS], [w for _, w in PROCESSORS])[0]
        currency = (
            "EUR" if processor == "lemonsqueezy" else rng.choice(["USD", "GBP"]) if processor == "paddle" else "USD"
        )
        amount = rng.choice([900, 1900, 2900, 4900, 9900, 29000])
        usd = amount * {"USD": 100, "EUR": 108, "GBP": 127}[currency] // 100
        status = rng.choices(["paid", "partially_refunded", "refunded", "pending"], [95, 2, 2, 1])[0]
        refunded = {"partially_refunded": amount // 2, "refunded": amount}.get(status, 0)
        matched = rng.random() < 0.9
        kind = rng.choices(["one_time", "subscription_create"], [70, 30])[0]
        sub_external = ""
        if kind == "subscription_create":
            sub_external = f"sub{len(subscriptions)}"
            subscriptions.append(
                (
                    ws.pk,
                    connections[(ws.pk, processor)].pk,
                    processor,
                    sub_external,
                    "active",
                    False,
                    vid if matched else "",
                    placed,
                    placed,
                    placed,
                )
            )
        base = dict(
            ws=ws.pk,
            conn=connections[(ws.pk, processor)].pk,
            processor=processor,
            currency=currency,
            amount=amount,
            usd=usd,
            vid=vid if matched else "",
            sub=sub_external,
        )
        orders.append(
            {
                **base,
                "kind": kind,
                "status": status,
                "refunded": refunded,
                "placed": placed,
                "matched": "metadata" if matched else "none",
            }
        )
        renewal = placed + timedelta(days=30)
        if sub_external and renewal < END and len(orders) < ORDERS:
            orders.append(
                {
                    **base,
                    "kind": "renewal",
                    "status": "paid",
                    "refunded": 0,
                    "placed": renewal,
                    "matched": "subscription" if matched else "none",
                }
            )
    _copy("integrations_subscription", sub_columns, subscriptions)
    from integrations.models import Subscription

    sub_ids = dict(Subscription.objects.values_list("external_id", "pk"))
    _copy(
        "integrations_order",
        [
            "workspace_id",
            "connection_id",
            "processor",
            "external_id",
            "kind",
            "status",
            "currency",
            "amount_minor",
            "tax_minor",
            "amount_usd_minor",
            "refunded_minor",
            "refunded_usd_minor",
            "placed_at",
            "paid_at",
            "visitor_id",
            "matched_by",
            "subscription_id",
            "subscription_external_id",
            "customer_email_digest",
            "first_seen_via",
            "source_updated_at",
            "created_at",
            "updated_at",
        ],
        (
            (
                o["ws"],
                o["conn"],
                o["processor"],
                f"o{i}",
                o["kind"],
                o["status"],
                o["currency"],
                o["amount"],
                0,
                o["usd"],
                o["refunded"],
                o["usd"] * o["refunded"] // o["amount"],
                o["placed"],
                None if o["status"] == "pending" else o["placed"],
                o["vid"],
                o["matched"],
                sub_ids.get(o["sub"]),
                o["sub"],
                "",
                "webhook",
                o["placed"],
                o["placed"],
                o["placed"],
            )
            for i, o in enumerate(orders)
        ),
    )
    assert Order.objects.count() == ORDERS
    return {
        "workspaces": workspaces,
        "key": key,
        "touches": len(touches),
        "visitors": len(visitors),
        "orders": len(orders),
        "identities": len(identities),
    }


def compute(workspaces) -> dict:
    """Full recompute of every order (credits and rollups), timed; then the visitor-set folds."""
    from django.db import connection

    from attribution.services.recompute import workspace_recompute_run, workspace_recompute_start
    from attribution.services.visitors import visitor_sets_sync

    started = time.perf_counter()
    done = 0
    for ws in workspaces:
        run = workspace_recompute_run(run_id=workspace_recompute_start(workspace=ws, reason="bench").pk)
        assert run.status == "succeeded", run.status
        done += run.done
    seconds = time.perf_counter() - started
    # Steady state: the per-minute fold has run (twice: it folds what the previous run saw).
    fold = time.perf_counter()
    for ws in workspaces:
        visitor_sets_sync(workspace=ws)
        visitor_sets_sync(workspace=ws)
    fold = time.perf_counter() - fold
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"orders": done, "seconds": seconds, "orders_per_s": done / seconds, "fold_seconds": fold}


def timed(fn, repeat=REPEAT) -> tuple[list[float], object]:
    result = fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    return samples, result


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


RAW_CHANNELS = """
WITH money AS (
  SELECT channel, sum(revenue_usd_minor) AS usd, sum(weight) AS conv FROM attribution_credit
  WHERE workspace_id = %(ws)s AND version = %(v)s AND model = %(model)s AND day BETWEEN %(start)s AND %(end)s
  GROUP BY channel),
visits AS (
  SELECT channel, count(DISTINCT visitor_id) AS visitors FROM attribution_touch
  WHERE workspace_id = %(ws)s AND occurred_at >= %(t0)s AND occurred_at < %(t1)s GROUP BY channel)
SELECT coalesce(m.channel, v.channel), coalesce(v.visitors, 0), coalesce(m.conv, 0), coalesce(m.usd, 0)
FROM money m FULL JOIN visits v ON v.channel = m.channel
"""
RAW_VISITORS = (
    "SELECT count(DISTINCT visitor_id) FROM attribution_touch "
    "WHERE workspace_id = %(ws)s AND occurred_at >= %(t0)s AND occurred_at < %(t1)s"
)
RAW_DAILY = """
SELECT day, sum(revenue_usd_minor), sum(weight) FROM attribution_credit
WHERE workspace_id = %(ws)s AND version = %(v)s AND model = %(model)s AND day BETWEEN %(start)s AND %(end)s
GROUP BY day ORDER BY day
"""


def measure_inprocess(ws) -> dict:
    import psycopg

    from attribution.selectors.reports import channel_report, revenue_daily, served_version

    start, end = RANGE
    out = {}
    with psycopg.connect(DB_URL) as raw:
        for model in MODELS:
            params = {
                "ws": ws.pk,
                "v": served_version(ws),
                "model": model,
                "start": start,
                "end": end,
                "t0": datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                "t1": datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            }

            def raw_channels(params=params):
                return raw.execute(RAW_CHANNELS, params).fetchall(), raw.execute(RAW_VISITORS, params).fetchone()[0]

            def raw_daily(params=params):
                return raw.execute(RAW_DAILY, params).fetchall()

            sel_ch, report = timed(lambda model=model: channel_report(workspace=ws, start=start, end=end, model=model))
            raw_ch, (raw_rows, raw_total_visitors) = timed(raw_channels)
            sel_day, days = timed(lambda model=model: revenue_daily(workspace=ws, start=start, end=end, model=model))
            raw_day, raw_days = timed(raw_daily)
            ours = {r.name: (r.visitors, r.conversions, r.revenue_usd_minor) for r in report.rows}
            theirs = {name: (int(v), int(c), int(u)) for name, v, c, u in raw_rows}
            by_day = {d: (int(u), int(c) // 1_000_000) for d, u, c in raw_days}
            identical = (
                ours == theirs
                and report.visitors == raw_total_visitors
                and all(by_day.get(d.date, (0, 0)) == (d.revenue_usd_minor, d.orders) for d in days)
                and len(by_day) <= len(days)
            )
            out[model] = {
                "channels": (sel_ch, raw_ch),
                "daily": (sel_day, raw_day),
                "identical": identical,
                "revenue": report.revenue_usd_minor,
                "rows": len(report.rows),
            }
    return out


def measure_http(key: str) -> dict:
    import requests

    start, end = RANGE
    out = {}
    with gunicorn(env=env(), options=["-w", "2"]) as port, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        base = f"http://127.0.0.1:{port}/api/v1/reports"
        for model in MODELS:
            for name, url in (
                ("channels", f"{base}/channels/?start={start}&end={end}&model={model}"),
                ("daily", f"{base}/revenue-daily/?days=10&model={model}"),
            ):
                samples = []
                for i in range(HTTP_REQUESTS + 5):
                    t = time.perf_counter()
                    response = session.get(url, timeout=10)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert response.status_code == 200, response.text[:200]
                    if i >= 5:
                        samples.append(elapsed)
                out[(model, name)] = samples
    return out


def report(data: dict, inproc: dict, http: dict, recompute: dict) -> None:
    print()
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"PostgreSQL · {data['touches']:,} touches, {data['visitors']:,} visitors, {data['orders']:,} orders, "
        f"{data['identities']:,} identities, {WORKSPACES} workspaces (one 80%) · range {RANGE[0]}..{RANGE[1]}"
    )
    print(
        f"full recompute: {recompute['orders']:,} orders in {recompute['seconds']:.1f} s = "
        f"{recompute['orders_per_s']:,.0f} orders/s (credits in 5 models, rollups); "
        f"folding {data['touches']:,} touches into visitor sets: {recompute['fold_seconds']:.1f} s"
    )
    print(
        f"{'model':15} {'report':9} {'selector p50/p95 ms':>20} {'raw SQL p50/p95 ms':>20} {'ratio':>7} "
        f"{'HTTP p50/p95 ms':>16}  identical"
    )
    worst_ratio, worst_http = float("inf"), 0.0
    for model in MODELS:
        for name in ("channels", "daily"):
            ours, raw = inproc[model][name]
            ratio = statistics.median(raw) / statistics.median(ours)
            worst_ratio = min(worst_ratio, ratio)
            h = http[(model, name)]
            worst_http = max(worst_http, p95(h))
            print(
                f"{model:15} {name:9} {statistics.median(ours):9.1f} / {p95(ours):6.1f} "
                f"{statistics.median(raw):11.1f} / {p95(raw):6.1f} {ratio:6.1f}x "
                f"{statistics.median(h):8.1f} / {p95(h):5.1f}  {inproc[model]['identical']}"
            )
    all_identical = all(inproc[m]["identical"] for m in MODELS)
    print(
        f"gates: rollups ≥ {GATE_RATIO}x faster than raw SQL: worst {worst_ratio:.1f}x "
        f"({'met' if worst_ratio >= GATE_RATIO else 'MISSED'}); HTTP p95 ≤ {GATE_HTTP_P95_MS} ms: worst "
        f"{worst_http:.1f} ms ({'met' if worst_http <= GATE_HTTP_P95_MS else 'MISSED'}); identical numbers: "
        f"{'yes' if all_identical else 'NO'}"
    )


def run() -> None:
    with machine_lock():
        prepare()
        t = time.perf_counter()
        data = generate()
        print(f"generated and loaded in {time.perf_counter() - t:.0f} s", flush=True)
        recompute = compute(data["workspaces"])
        print(f"recomputed in {recompute['seconds']:.0f} s", flush=True)
        inproc = measure_inprocess(data["workspaces"][0])
        http = measure_http(data["key"])
        report(data, inproc, http, recompute)


if __name__ == "__main__":
    run()
