"""Background jobs: schedules name real tasks, and a sent task really runs in a worker, both on the
embedded transport (`make run`, no broker installed) and on Redis (production, CI)."""

import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils.module_loading import import_string

from tests.workers import embedded_app, queued, wait_until, worker_app
from trackrev.celery import app, collect_schedules
from trackrev.health.models import Heartbeat
from trackrev.health.services import HEARTBEAT

BACKLOG = 60


def test_every_beat_entry_names_a_registered_task_and_expires():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    schedule = collect_schedules()

    assert "trackrev.heartbeat" in schedule
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name} names unregistered task {entry['task']}"
        assert entry.get("options", {}).get("expires"), f"{name} has no expires"


def test_every_order_consumer_is_a_registered_task():
    app.loader.import_default_modules()
    for name in settings.ORDER_CONSUMERS:
        assert name in app.tasks, name


def test_every_demo_seeder_imports():
    for dotted in settings.DEMO_SEEDERS:
        assert callable(import_string(dotted))


def test_duplicate_schedule_names_are_refused(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="declared twice"):
        collect_schedules(["trackrev.health.schedules", "trackrev.health.schedules"])


def test_production_settings_never_run_tasks_eagerly():
    from trackrev.settings import base

    assert base.CELERY_TASK_ALWAYS_EAGER is False


def _wait_for_heartbeat() -> Heartbeat:
    return wait_until(
        lambda: Heartbeat.objects.filter(name="trackrev.heartbeat").first(), "the worker did not run the task"
    )


@pytest.mark.django_db(transaction=True)
def test_tasks_sent_in_embedded_mode_run_in_the_embedded_worker_behind_a_backlog(tmp_path):
    """`make run`'s transport and options, on a queue file of its own: a backlog like the demo's seeded
    conversions drains well within the wait (at kombu's default, one poll a second, it took 30 s)."""
    queue = tmp_path / "celery.sqlite3"
    embedded = embedded_app(queue)
    for _ in range(BACKLOG):
        embedded.send_task(HEARTBEAT)

    # A pool, as `make run`'s worker has: the consumer hands each message over and, its prefetch full,
    # waits for its next poll to take another (the solo pool runs each task inside the consumer).
    with start_worker(embedded, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10):
        wait_until(lambda: not queued(queue), f"a backlog of {BACKLOG} was not drained")

    assert _wait_for_heartbeat().last_run_at is not None


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_redis_runs_in_a_worker(redis_url):
    redis = worker_app(redis_url, broker_transport_options={}, task_default_queue=f"test-{uuid.uuid4().hex}")

    with start_worker(redis, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        redis.send_task(HEARTBEAT)
        assert _wait_for_heartbeat().last_run_at is not None
