"""Real Celery workers and publishers for tests: apps configured exactly like ours but for the broker (the
embedded queue of `make run`, or Redis), a worker in a thread, and a wait for what it does (short polls,
a deadline, no fixed sleeps)."""

import contextlib
import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections


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
