"""What every benchmark shares: the exclusive machine lock, Redis detection, and a gunicorn serving
TrackRev (production settings plus the bare baseline view, `tests/benchmarks/settings.py`)."""

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = "/tmp/trackrev-bench.lock"


@contextlib.contextmanager
def machine_lock():
    """Benchmarks never overlap: two at once on two cores would measure each other."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def services_pinned(cpus: str, names: tuple[str, ...] = ("postgres", "redis-server")):
    """Pin the running PostgreSQL and Redis processes (every thread) to `cpus` while measuring, so the
    server side of a request shares the core it is pinned to (reliability-and-performance.md §7.1);
    the previous affinity is restored. Needs the right to change them (root here); else unpinned."""
    pids = [int(pid) for name in names for pid in _pgrep(name)]
    before = {}
    for pid in pids:
        try:
            cores = os.sched_getaffinity(pid)
        except OSError:  # gone, or not ours to see
            continue
        if (
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True, check=False).returncode
            == 0
        ):
            before[pid] = cores
    try:
        yield bool(before)
    finally:
        for pid, cores in before.items():
            subprocess.run(
                ["taskset", "-a", "-p", "-c", ",".join(map(str, sorted(cores))), str(pid)],
                capture_output=True,
                check=False,
            )


def _pgrep(name: str) -> list[str]:
    return subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False).stdout.split()


def redis_up() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, check=False)
    return result.stdout.strip() == "PONG"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, env: dict, options: list[str], cpus: str | None = None):
    """Serve trackrev.wsgi on a free port (optionally pinned with taskset); yields the port."""
    port = free_port()
    pin = ["taskset", "-c", cpus] if cpus else []
    command = [
        *pin,
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "trackrev.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        *options,
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
