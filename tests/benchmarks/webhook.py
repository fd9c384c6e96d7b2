"""Webhook acknowledgement and reconcile throughput (docs/benchmarks.md, "Webhooks and reconcile").

1. p99 acknowledgement of signed Polar deliveries (each a new webhook-id: verify, insert, enqueue)
   at a fixed 50 requests/s (open loop, 30 s) — target ≤ 100 ms.
2. Throughput with wrk of that endpoint vs a bare Django 204 view behind the same middleware, same
   gunicorn, same run — target ≥ 0.4 of it. As reliability-and-performance.md §7.1 prescribes for ratio
   gates: gunicorn, PostgreSQL and Redis pinned to core 1, wrk to core 0, 5 s warm-up, 20 s measured,
   subjects alternated within each run.
3. Reconcile processing rate against the local fake Polar API (orders/s).

Needs PostgreSQL (`BENCH_DATABASE_URL`, default a `trackrev_bench_webhook` database on 127.0.0.1) and
uses Redis as the broker when `redis-cli ping` answers, else the embedded queue.
"""

import base64
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.benchmarks.harness import ROOT, gunicorn, machine_lock, redis_up, services_pinned

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trackrev_bench_webhook")
SECRET = "whsec_Kx7Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2Uc7Vq"
WORKSPACE = "ws_benchwebhook"
RATE, SECONDS = 50, 30
WARMUP_SECONDS, WRK_SECONDS, WRK_CONNECTIONS = 5, 20, 32
# Threads, not processes, hide the wait for the commit, and the inbox commits each process's waiting
# rows together (integrations/services/inbox.py); the README's production command is the same.
GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "16"]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
RECONCILE_ORDERS = 2000
# reliability-and-performance.md §7.1 asks for shared_buffers ≥ 2 GB; the output records what the server had.
POSTGRES_SETTINGS = ("shared_buffers", "max_wal_size", "synchronous_commit")

# wrk walks the pre-signed deliveries in order, so every request is a new webhook-id.
LUA = """
local lines, n, i, body = {}, 0, 0, nil
function init(args)
  local f = io.open(args[1], "r"); body = f:read("*a"); f:close()
  for line in io.lines(args[2]) do n = n + 1; lines[n] = line end
end
function request()
  i = i + 1
  local id, ts, sig = lines[(i % n) + 1]:match("(%S+) (%S+) (%S+)")
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["webhook-id"] = id,
    ["webhook-timestamp"] = ts, ["webhook-signature"] = sig}, body)
end
"""


def env() -> dict:
    broker = "redis://127.0.0.1:6379/14" if shutil.which("redis-cli") and redis_up() else ""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": broker,
        "CELERY_EMBEDDED_QUEUE_PATH": os.path.join(tempfile.mkdtemp(prefix="bench-celery-"), "celery.sqlite3"),
        "PYTHONPATH": str(ROOT),
    }


def django_setup() -> None:
    os.environ.update({k: v for k, v in env().items() if k != "CELERY_EMBEDDED_QUEUE_PATH"})
    import django

    django.setup()


def prepare_database() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env(), check=True)


def fixtures() -> None:
    from django.db import connection

    from integrations.models import ProcessorConnection, WebhookEvent
    from trackrev.workspaces.models import Workspace

    # Every run starts from the same empty, analyzed inbox (a bulk DELETE would leave the next run
    # dead rows to step over); the benchmark database holds nothing else of value.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {WebhookEvent._meta.db_table}")
    workspace, _ = Workspace.objects.get_or_create(public_id=WORKSPACE, defaults={"name": "Bench"})
    ProcessorConnection.objects.filter(workspace=workspace).delete()
    ProcessorConnection.objects.create(
        workspace=workspace, processor="polar", api_token="t", webhook_secret=SECRET, api_base_url="http://127.0.0.1:9"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # A timed checkpoint comes checkpoint_timeout after the previous one starts: starting each run
        # with one keeps them out of its measured windows, which otherwise caught one run in three.
        cursor.execute("CHECKPOINT")


def body_bytes() -> bytes:
    sys.path.insert(0, str(ROOT))
    from tests.integrations.polar import payload

    return json.dumps(payload("order_created_purchase")).encode()


def signed(count: int, body: bytes) -> list[tuple[str, str, str]]:
    """Deliveries signed exactly as Polar signs them (polar.md §1.3), each with a fresh webhook-id."""
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(base64.b64encode(SECRET.encode()).decode())
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    text = body.decode()
    return [
        (msg_id, str(int(now.timestamp())), hook.sign(msg_id, now, text))
        for msg_id in (f"msg_{uuid.uuid4().hex}" for _ in range(count))
    ]


def fixed_rate_latencies(port: int, body: bytes) -> list[float]:
    """Open loop: one request every 1/RATE s regardless of answers; returns latencies in ms."""
    requests = signed(RATE * SECONDS, body)
    latencies, statuses, lock = [], [], threading.Lock()
    path = f"/webhooks/polar/{WORKSPACE}"

    def send(msg_id, stamp, signature):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": signature,
        }
        started = time.perf_counter()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        with lock:
            latencies.append(elapsed)
            statuses.append(response.status)

    threads, start = [], time.perf_counter()
    for index, request in enumerate(requests):
        delay = start + index / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=send, args=request)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    assert set(statuses) == {202}, f"unexpected statuses {set(statuses)}"
    return latencies


def wrk(port: int, path: str, *, body: bytes | None, seconds: int) -> float:
    url = f"http://127.0.0.1:{port}{path}"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        args = []
        if body is None:  # the baseline gets the same bytes, and ignores them
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body_bytes().decode())}\n"
            )
        else:
            body_file, lines = Path(tmp) / "body.json", Path(tmp) / "lines.txt"
            script.write_text(LUA)
            body_file.write_bytes(body)
            lines.write_text("\n".join(" ".join(r) for r in signed(3000 * seconds, body)) + "\n")
            args = ["--", str(body_file), str(lines)]
        command = ["taskset", "-c", "0", "wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "-s", str(script)]
        output = subprocess.run([*command, url, *args], capture_output=True, text=True, check=True).stdout
    non_2xx = [line for line in output.splitlines() if "Non-2xx" in line]
    assert not non_2xx, output
    return float(next(line for line in output.splitlines() if line.startswith("Requests/sec")).split()[1])


def reconcile_rate() -> float:
    from integrations.models import Order, ProcessorConnection
    from integrations.processors.http import HttpClient
    from integrations.processors.registry import get_adapter
    from integrations.services.reconcile import sync_run_execute, sync_run_queue
    from tests.integrations.fake_polar import FakePolar

    connection = ProcessorConnection.objects.get(workspace__public_id=WORKSPACE)
    Order.objects.filter(connection=connection).delete()
    with FakePolar(token="t") as fake:
        now = dt.datetime.now(tz=dt.UTC)
        for i in range(RECONCILE_ORDERS):
            fake.add_order(created_at=now - dt.timedelta(minutes=i + 1), metadata={"trackrev_visitor_id": f"v_{i}"})
        connection.api_base_url, connection.reconciled_through = fake.base_url, now - dt.timedelta(days=3)
        connection.save()
        run = sync_run_queue(connection=connection)
        http = HttpClient(base_url=fake.base_url, token="t")
        started = time.perf_counter()
        run = sync_run_execute(sync_run_id=run.pk, adapter=get_adapter(connection, http=http))
        elapsed = time.perf_counter() - started
    assert run.status == "succeeded" and run.created == RECONCILE_ORDERS, (run.status, run.last_error)
    return RECONCILE_ORDERS / elapsed


def postgres_settings() -> str:
    from django.db import connection

    shown = []
    with connection.cursor() as cursor:
        for name in POSTGRES_SETTINGS:
            cursor.execute(f"SHOW {name}")
            shown.append(f"{name}={cursor.fetchone()[0]}")
    return ", ".join(shown)


def run() -> None:
    with machine_lock():
        measure()


def measure() -> None:
    prepare_database()
    django_setup()
    fixtures()
    body = body_bytes()
    hook_path = f"/webhooks/polar/{WORKSPACE}"
    p99s, ratios, bare_rps, hook_rps, rates = [], [], [], [], []
    for attempt in range(1, RUNS + 1):
        with services_pinned("1") as pinned, gunicorn(env=env(), options=GUNICORN, cpus="1") as port:
            wrk(port, "/bench/bare", body=None, seconds=WARMUP_SECONDS)  # connections, caches
            bare = wrk(port, "/bench/bare", body=None, seconds=WRK_SECONDS)
            wrk(port, hook_path, body=body, seconds=WARMUP_SECONDS)
            hook = wrk(port, hook_path, body=body, seconds=WRK_SECONDS)
            latencies = fixed_rate_latencies(port, body)
            p99 = statistics.quantiles(latencies, n=100)[98]
        p99s.append(p99)
        bare_rps.append(bare)
        hook_rps.append(hook)
        ratios.append(hook / bare)
        rates.append(reconcile_rate())
        print(
            f"run {attempt}: p99 ack at {RATE}/s {p99:.1f} ms (median {statistics.median(latencies):.1f} ms); "
            f"bare 204 {bare:.0f} req/s, webhook {hook:.0f} req/s, ratio {hook / bare:.2f}; "
            f"reconcile {rates[-1]:.0f} orders/s",
            flush=True,
        )
        fixtures()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL "
        f"({postgres_settings()}), "
        f"broker {'redis' if env()['CELERY_BROKER_URL'] else 'embedded'}, "
        f"PostgreSQL and Redis {'pinned to core 1' if pinned else 'NOT pinned (no permission)'}"
    )
    spread = (max(ratios) - min(ratios)) / statistics.median(ratios)
    print(
        f"median of {RUNS}: p99 ack {statistics.median(p99s):.1f} ms (target ≤ 100), "
        f"bare {statistics.median(bare_rps):.0f} req/s, webhook {statistics.median(hook_rps):.0f} req/s, "
        f"ratio {statistics.median(ratios):.2f} (spread {spread:.0%}; target ≥ 0.4), "
        f"reconcile {statistics.median(rates):.0f} orders/s"
    )
