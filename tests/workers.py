"""Real Celery workers for tests: an app configured exactly like ours but for the broker, and a wait
for what the worker does (short polls, a deadline, no fixed sleeps)."""

import contextlib
import time

from celery import Celery
from celery.contrib.testing.worker import start_worker


def worker_app(broker_url: str, **conf) -> Celery:
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


def wait_until(condition, failure: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(failure)
