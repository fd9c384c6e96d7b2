import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.workers import database_url, embedded_env, wait_until
from trackrev.health.models import Heartbeat
from trackrev.health.services import HEARTBEAT, heartbeat_record

pytestmark = pytest.mark.django_db


def test_healthy_with_a_fresh_heartbeat(client):
    heartbeat_record()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"
    assert 0 <= body["heartbeat_age_seconds"] < 5


def test_unhealthy_before_the_first_heartbeat(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["heartbeat_age_seconds"] is None


def test_an_unhealthy_answer_is_logged_as_a_warning_not_as_an_error(client, caplog):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.request"] == [
        ("WARNING", "Unhealthy: database ok, broker ok, heartbeat_age_seconds None")
    ]


def test_unhealthy_when_the_heartbeat_is_stale(client):
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        heartbeat_record()

    response = client.get("/healthz")

    assert response.status_code == 503 and response.json()["heartbeat_age_seconds"] >= 600


def test_unhealthy_when_the_broker_is_down(client, settings):
    from trackrev.celery import app

    heartbeat_record()
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved

    assert response.status_code == 503 and response.json()["broker"] == "down"


def _children(pid: int) -> list[int]:
    return [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat") if _stat(stat)[1:2] == [str(pid)]]


def _alive(pid: int) -> bool:
    return _stat(Path(f"/proc/{pid}/stat"))[:1] not in ([], ["Z"])


def _stat(path: Path) -> list[str]:
    """State, parent pid, … of a process; [] once it is gone."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_reported_within_a_minute_of_its_death(client, tmp_path):
    """`make run`'s worker with beat, for real: alive, its heartbeats keep /healthz healthy; killed, no
    process of it writes another, and a minute later /healthz says so."""
    # Beat keeps a task's last run: due now, the first heartbeat does not wait one interval.
    PeriodicTask.objects.create(
        name=HEARTBEAT,
        task=HEARTBEAT,
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS),
        last_run_at=timezone.now() - timedelta(hours=1),
    )
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "trackrev", "worker", "--beat", "--concurrency=2", "-l", "INFO"],
            cwd=settings.BASE_DIR,
            env=embedded_env(tmp_path / "celery.sqlite3", DATABASE_URL=database_url()),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    processes = []
    try:
        # The worker records one once ready; the next one, beat's, shows beat running too (a beat killed with
        # its worker before it ticked could outlive it: it learns to die with it only then).
        ready = wait_until(lambda: Heartbeat.objects.filter(name=HEARTBEAT).first(), "no heartbeat", timeout=60)
        newer = Heartbeat.objects.filter(name=HEARTBEAT, last_run_at__gt=ready.last_run_at)
        last = wait_until(newer.first, "no heartbeat from beat", timeout=60)
        interval = PeriodicTask.objects.get(name=HEARTBEAT).interval.schedule.run_every  # as beat runs it now
        processes = _children(worker.pid)  # its beat and its pool
        # One heartbeat late or lost is no alarm.
        with time_machine.travel(last.last_run_at + 2 * interval, tick=False):
            assert client.get("/healthz").status_code == 200

        worker.kill()
        worker.wait()
        died = timezone.now()
        wait_until(lambda: not any(map(_alive, processes)), "a process of the killed worker lives on", timeout=10)
    finally:
        worker.kill()
        for pid in filter(_alive, processes):
            os.kill(pid, signal.SIGKILL)
        print(log.read_text())  # shown when the test fails

    assert len(processes) == 3
    assert Heartbeat.objects.get(name=HEARTBEAT).last_run_at < died
    with time_machine.travel(died + timedelta(seconds=60), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
