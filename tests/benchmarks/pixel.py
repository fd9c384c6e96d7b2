"""Pixel ingest: /collect throughput vs a bare Django 204 view, and durability (docs/benchmarks.md, "Pixel").

Same gunicorn (pinned to core 1), same settings and middleware, same run, alternating subject and
baseline; wrk pinned to core 0 with a Lua script that posts hits exactly as p.js sends them, each
from a new visitor. Subjects:
  bare       the bare view, fed the landing bodies (baseline B1)
  landings   /collect, every hit a landing (session start + UTMs + referrer): counter + touch insert
  mixed      /collect, 1 hit in 5 a landing, the rest plain page views (counter only)
Durability: for every /collect run, touch rows stored are compared with the landing hits answered 2xx.

PostgreSQL is required (`BENCH_DATABASE_URL`, default a dedicated `trackrev_bench_pixel` database on
127.0.0.1); the cache is Redis (`redis://127.0.0.1:6379/13`) when it answers, as in production.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from tests.benchmarks.harness import ROOT, gunicorn, machine_lock, redis_up

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trackrev_bench_pixel")
CACHE_URL = "redis://127.0.0.1:6379/13"
WORKSPACE = "ws_benchpixel"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WARMUP, SECONDS, CONNECTIONS = 5, int(os.environ.get("BENCH_SECONDS", "20")), 32
GUNICORN = os.environ.get("BENCH_GUNICORN", "-w 4 -k gthread --threads 4").split()
SUBJECTS = {"bare": ("/bench/bare", 1.0), "landings": ("/collect", 1.0), "mixed": ("/collect", 0.2)}
GATE, GOAL = 0.60, 0.75

# Bodies exactly as p.js posts them (attribution/pixel/wire.py); every request is a new visitor id.
LUA = r"""
local share, prefix, n = 1.0, "", 0
local landing = '{"w":"%s","v":"%s","k":"pv","u":"https://www.bench.test/?utm_source=newsletter&utm_medium=email' ..
  '&utm_campaign=c%d","r":"https://www.google.com/","s":true}'
local view = '{"w":"%s","v":"%s","k":"pv","u":"https://www.bench.test/docs/%d","r":"https://www.bench.test/","s":false}'
function init(args) share = tonumber(args[1]); prefix = args[2] end
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "https://www.bench.test"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " ..
  "Chrome/131.0.0.0 Safari/537.36"
function request()
  n = n + 1
  local vid = string.format("%s%016d", prefix, n)
  local template = landing
  if (n % 100) >= share * 100 then template = view end
  return wrk.format("POST", nil, nil, string.format(template, "WORKSPACE", vid, n % 50))
end
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "p99_ms": %.2f}\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.timeout, summary.errors.connect, summary.errors.read,
    summary.errors.write, latency:percentile(99) / 1000))
end
""".replace("WORKSPACE", WORKSPACE)


def env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "DATABASE_URL": DB_URL,
        "CACHE_URL": CACHE_URL if redis_up() else f"filecache://{tempfile.mkdtemp(prefix='bench-cache-')}",
        "PIXEL_RATE_LIMIT_PER_MINUTE": str(10**9),  # one client IP sends everything; the check still runs
        "PYTHONPATH": str(ROOT),
    }


def prepare() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env(), check=True)
    (ROOT / "var" / "static").mkdir(parents=True, exist_ok=True)
    os.environ.update(env())
    import django

    django.setup()
    from django.core.cache import cache

    from trackrev.workspaces.models import Workspace

    Workspace.objects.update_or_create(
        public_id=WORKSPACE, defaults={"name": "Bench", "plan": "pro", "allowed_domains": ["bench.test"]}
    )
    cache.clear()


def touches() -> int:
    from attribution.models import Touch

    return Touch.objects.filter(workspace__public_id=WORKSPACE).count()


def drain() -> tuple[int, float]:
    """Run the flush job until the Redis buffer is empty (what beat does every 10 s in production);
    returns (touches stored, seconds)."""
    from attribution.services.pixel import touches_flush

    started = time.perf_counter()
    stored = touches_flush()
    return stored, time.perf_counter() - started


def wrk(port: int, script: str, subject: str, seconds: int, tag: str) -> dict:
    path, share = SUBJECTS[subject]
    command = [
        "taskset",
        "-c",
        "0",
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        script,
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(share),
        tag,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["ok"] = result["requests"] - result["status_errors"]
    result["landings_ok"] = round(result["ok"] * share) if share < 1 else result["ok"]
    return result


def measure() -> dict:
    results: dict[str, list[dict]] = {name: [] for name in SUBJECTS}
    lost = extra = sent = flushed = 0
    flush_seconds = 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA)
        script = handle.name
    with gunicorn(env=env(), options=GUNICORN, cpus="1") as port:
        for run in range(RUNS):
            for subject in SUBJECTS:
                wrk(port, script, subject, WARMUP, f"w{run}{subject[0]}{time.time_ns() % 10**9:09d}")
                drain()
                before = touches()
                result = wrk(port, script, subject, SECONDS, f"m{run}{subject[0]}{time.time_ns() % 10**9:09d}")
                results[subject].append(result)
                print(
                    f"run {run + 1} {subject:9} {result['rps']:8.0f} req/s  p99 {result['p99_ms']:.1f} ms  "
                    f"non-2xx {result['status_errors']}  timeouts {result['timeouts']}",
                    flush=True,
                )
                if subject == "landings":
                    rows, seconds = drain()
                    flushed, flush_seconds = flushed + rows, flush_seconds + seconds
                    stored = touches() - before
                    sent += result["ok"]
                    lost += max(0, result["ok"] - stored)
                    extra += max(0, stored - result["ok"])
    return {
        "results": results,
        "durability": {"landings_2xx": sent, "lost": lost, "extra": extra},
        "flush": {"rows": flushed, "seconds": flush_seconds},
    }


def report(data: dict) -> None:
    results = data["results"]
    median = {name: statistics.median(r["rps"] for r in runs) for name, runs in results.items()}
    spread = {
        name: (max(r["rps"] for r in runs) - min(r["rps"] for r in runs)) / median[name]
        for name, runs in results.items()
    }
    ratios = {
        name: statistics.median(r["rps"] / b["rps"] for r, b in zip(results[name], results["bare"], strict=True))
        for name in ("landings", "mixed")
    }
    durability = data["durability"]
    print()
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · {platform.python_version()} · "
        f"gunicorn {' '.join(GUNICORN)} on core 1, wrk -t1 -c{CONNECTIONS} -d{SECONDS}s on core 0 · "
        f"{RUNS} runs, median (spread)"
    )
    for name in SUBJECTS:
        print(f"  {name:9} {median[name]:8.0f} req/s ({spread[name]:.0%})")
    for name, ratio in ratios.items():
        verdict = "goal met" if ratio >= GOAL else "gate met" if ratio >= GATE else "BELOW GATE"
        print(f"  {name} / bare = {ratio:.2f}  ({verdict}: gate {GATE}, goal {GOAL})")
    print(
        f"  durability: {durability['landings_2xx']} landing hits answered 204, "
        f"{durability['lost']} lost, {durability['extra']} extra rows"
    )
    flush = data["flush"]
    if flush["rows"]:
        print(
            f"  flush job: {flush['rows']} buffered landings stored in {flush['seconds']:.1f} s "
            f"({flush['rows'] / flush['seconds']:.0f} touches/s)"
        )


def run() -> None:
    with machine_lock():
        prepare()
        report(measure())


if __name__ == "__main__":
    run()
