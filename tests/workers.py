"""Real Celery workers and publishers for tests: apps configured exactly like ours but for the broker (the
embedded queue of `make run`, or Redis), a worker in a thread, and a wait for what it does (short polls,
a deadline, no fixed sleeps)."""

import contextlib
import importlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing, suppress
from pathlib import Path
from urllib.parse import quote

from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, connections


@task_postrun.connect
def _close_worker_thread_connections(**kwargs) -> None:
    """What Celery's Django fixup does in a real worker, which a worker started in a thread lacks: close
    the database connections a task opened, so none outlives the test (the test database could then not
    be dropped). Never in the test's own thread, whose transaction may be the test's."""
    if threading.current_thread() is not threading.main_thread():
        connections.close_all()


def wait_until(condition, failure: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(failure)


def worker_app(broker_url: str, **conf) -> Celery:
    """A second app configured exactly like ours but for the broker, so the global app stays untouched."""
    other = Celery("trackrev-test", set_as_current=False)
    other.config_from_object("django.conf:settings", namespace="CELERY")
    other.conf.update(broker_url=broker_url, **conf)
    other.autodiscover_tasks(force=True)
    return other


@contextlib.contextmanager
def running_worker(celery_app: Celery, **options):
    """A worker in a thread of this process; while it runs, `celery_app` is the current app (what the
    services' `current_app.send_task` reaches)."""
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=10, **options) as worker:
        yield worker


def embedded_app(queue: Path, **conf) -> Celery:
    """`make run`'s embedded transport and options, on the queue file `queue`."""
    return worker_app(
        f"sqlite:///{queue}",
        broker_transport=settings.CELERY_EMBEDDED_TRANSPORT,
        broker_transport_options=settings.CELERY_EMBEDDED_TRANSPORT_OPTIONS,
        worker_enable_remote_control=False,
        **conf,
    )


def embedded_env(queue: Path, **extra: str) -> dict:
    """The environment of a TrackRev process (web, worker, beat) in embedded mode on the queue file `queue`,
    with the secrets the test settings put in the environment."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trackrev.settings.base",
        "CELERY_EMBEDDED_QUEUE_PATH": str(queue),
        "CACHE_URL": "locmemcache://",
        **extra,
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


def queued(queue: Path) -> list[tuple[int, bool, str]]:
    """The message rows of the queue file: (id, visible, payload)."""
    with closing(sqlite3.connect(queue)) as db:
        return [
            (id_, bool(visible), payload)
            for id_, visible, payload in db.execute("SELECT id, visible, payload FROM kombu_message ORDER BY id")
        ]


def queue_insert(queue: Path, payload: str) -> int:
    """A message row written behind kombu's back, as a damaged file or disk would leave it."""
    with closing(sqlite3.connect(queue)) as db, db:
        (queue_id,) = db.execute("SELECT id FROM kombu_queue WHERE name = 'celery'").fetchone()
        return db.execute(
            "INSERT INTO kombu_message (visible, payload, version, queue_id) VALUES (1, ?, 1, ?)", (payload, queue_id)
        ).lastrowid


def database_url() -> str:
    """The test database, for a process the test starts."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}"
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Set for a worker process a test starts (worker_process): this module, which the worker imports
# (`--include`), applies it there: the broker's transport options, and where to pause.
WORKER_CONFIG = "TRACKREV_TEST_WORKER"


@contextlib.contextmanager
def worker_process(
    broker_url: str, log: Path, *, transport_options: dict, pause_after: str = "", paused=None, dies_in: str = ""
):
    """A real `celery worker` (prefork, one pool process) of our app on the test database and `broker_url`.
    With `pause_after` ("module:function"), the first call of that function in any of its pool processes
    returns, then writes the pool process's pid to the file `paused` and sleeps until the test kills it:
    the task stops at a known point between its writes. With `dies_in`, every call of that function kills
    its pool process (a poison message, as one running out of memory would). Killed, with its pool, when
    the block ends."""
    config = {
        "transport_options": transport_options,
        "pause_after": pause_after,
        "paused": str(paused or ""),
        "dies_in": dies_in,
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trackrev.settings.base",
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": database_url(),
        "CACHE_URL": "locmemcache://",
        WORKER_CONFIG: json.dumps(config),
    }
    command = [sys.executable, "-m", "celery", "-A", "trackrev", "worker", "--include", "tests.workers"]
    options = ["--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("a") as output:
        # A session of its own, so that the block's end kills its pool process with it.
        worker = subprocess.Popen(
            [*command, *options, "-l", "INFO"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield worker
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def paused_pid(paused: Path, worker: subprocess.Popen, timeout: float = 60.0) -> int:
    """The pid of the pool process paused at `worker_process`'s point, once it is there."""
    wait_until(lambda: paused.exists() or worker.poll() is not None, "the task never reached its pause", timeout)
    assert worker.poll() is None, "the worker died before the task reached its pause"
    return int(paused.read_text())


def _pause_after(target: str, paused: Path) -> None:
    module_name, name = target.split(":")
    module = importlib.import_module(module_name)
    real = getattr(module, name)

    def pausing(*args, **kwargs):
        result = real(*args, **kwargs)
        if not paused.exists():  # the first call only: the task delivered again runs through
            ready = paused.with_suffix(".tmp")
            ready.write_text(str(os.getpid()))
            ready.rename(paused)
            time.sleep(600)  # until the test kills this process
        return result

    setattr(module, name, pausing)


def _dies_in(target: str) -> None:
    module_name, name = target.split(":")
    setattr(importlib.import_module(module_name), name, lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL))


def _pool_process_init(config: dict) -> None:
    if config["pause_after"]:
        _pause_after(config["pause_after"], Path(config["paused"]))
    if config["dies_in"]:
        _dies_in(config["dies_in"])


def _worker_configure(config: dict) -> None:
    from celery.signals import worker_process_init

    from trackrev.celery import app

    app.conf.broker_transport_options = config["transport_options"]
    # In each pool process, once Django is set up there.
    worker_process_init.connect(lambda **kwargs: _pool_process_init(config), weak=False)


if WORKER_CONFIG in os.environ:
    _worker_configure(json.loads(os.environ[WORKER_CONFIG]))


@contextlib.contextmanager
def redis_namespace(redis_url: str):
    """Our app, current and default, on the real Redis under a key prefix of its own (its transport
    options are those to give the workers a test starts), so that no other test's or run's messages are
    consumed or restored here; every key of it is deleted after."""
    import uuid

    import redis

    options = {"global_keyprefix": f"test-{uuid.uuid4().hex}:"}
    app = worker_app(redis_url, broker_transport_options=options)
    app.set_default()
    app.set_current()
    try:
        yield app
    finally:
        client = redis.Redis.from_url(redis_url)
        if keys := list(client.scan_iter(f"{options['global_keyprefix']}*")):
            client.delete(*keys)
        client.close()
