"""The embedded queue of `make run` (trackrev/embedded_broker.py) with a real worker on a real SQLite
file: a damaged message is set aside and the worker goes on; concurrent publishers lose nothing."""

import logging
import subprocess
import sys
import threading
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from tests.workers import embedded_app, embedded_env, queue_insert, queued, wait_until

PUBLISHERS, EACH = 3, 200


def _recording_app(queue):
    app = embedded_app(queue)
    ran = Counter()
    lock = threading.Lock()

    @app.task(name="tests.record", shared=False)  # this app only
    def record(*key):
        with lock:
            ran[key] += 1

    return app, ran


@pytest.fixture
def broker_log():
    """What the embedded transport logs (caught on its own logger: a starting worker configures Django's
    LOGGING, which replaces the root logger's handlers, caplog's among them)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("trackrev.embedded_broker")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_damaged_message_is_set_aside_and_logged_and_the_worker_runs_the_next_ones(tmp_path, broker_log):
    queue = tmp_path / "celery.sqlite3"
    app, ran = _recording_app(queue)
    app.send_task("tests.record", args=[1])
    ((_, _, intact),) = queued(queue)
    empty = queue_insert(queue, "")  # what a writer that died before writing would leave
    truncated = queue_insert(queue, intact[: len(intact) // 2])
    for n in (2, 3):
        app.send_task("tests.record", args=[n])

    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10):
        wait_until(lambda: len(ran) == 3, f"the worker stopped at the damaged messages: ran {sorted(ran)}")

    assert ran == Counter({(1,): 1, (2,): 1, (3,): 1})
    assert [(id_, visible) for id_, visible, _ in queued(queue)] == [(empty, False), (truncated, False)]
    assert [record.levelno for record in broker_log] == [logging.ERROR, logging.ERROR]
    assert f"message row {empty} does not decode" in broker_log[0].getMessage()
    assert f"message row {truncated} does not decode" in broker_log[1].getMessage()


def test_concurrent_publishers_lose_nothing_and_each_message_runs_exactly_once(tmp_path):
    """Two web processes and beat, say, each publishing a burst at once on a new queue file while the
    worker starts and consumes."""
    queue = tmp_path / "celery.sqlite3"
    app, ran = _recording_app(queue)
    publishers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.platform.embedded_publisher", str(p), str(EACH)],
            cwd=settings.BASE_DIR,
            env=embedded_env(queue),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in range(PUBLISHERS)
    ]
    try:
        for publisher in publishers:
            assert publisher.stdout.readline() == "ready\n"
        for publisher in publishers:
            publisher.stdin.write("go\n")
            publisher.stdin.flush()
        # More threads than `make run`'s pool: each poll takes up to as many messages, so the test drains the
        # burst in seconds (the backlog test in test_jobs.py holds the rate of `make run`'s own).
        with start_worker(app, pool="threads", concurrency=8, perform_ping_check=False, shutdown_timeout=10):
            assert [publisher.wait(timeout=120) for publisher in publishers] == [0] * PUBLISHERS
            wait_until(
                lambda: ran.total() >= PUBLISHERS * EACH and not queued(queue),
                f"{ran.total()} of {PUBLISHERS * EACH} messages ran",
                timeout=120,
            )
    finally:
        for publisher in publishers:
            publisher.kill()
            publisher.communicate()

    assert ran == Counter({(p, n): 1 for p in range(PUBLISHERS) for n in range(EACH)})
    assert queued(queue) == []
