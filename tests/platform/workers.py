"""Real Celery workers and publishers for the platform tests: the embedded queue (`make run`) or Redis."""

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from celery import Celery
from django.conf import settings


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
