"""Issue 17, item 4: beat down for several hourly slots, and two beats at once. Beat is django-celery-beat's
DatabaseScheduler on our schedule (the one `celery beat` runs), ticked at fixed times; what it sends runs
as a worker would run it, reconciling against a local fake of Polar's API."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection as db_connection
from django_celery_beat.schedulers import DatabaseScheduler

from integrations.models import Order, SyncRun
from integrations.services.reconcile import OVERLAP, connections_reconcile_queue
from tests.factories.integrations import ProcessorConnectionFactory
from tests.factories.workspaces import WorkspaceFactory
from tests.integrations.fake_polar import FakePolar
from trackrev.celery import app

RECONCILE_ALL = "integrations.reconcile_all"
TOKEN = "polar_oat_fake_token_0001"
SLOT = dt.datetime(2026, 11, 27, 10, 17, 0, 5000, tzinfo=dt.UTC)  # the hourly reconcile runs at minute 17
RESTART = dt.datetime(2026, 11, 27, 15, 40, tzinfo=dt.UTC)  # beat was down for the slots 11:17 to 15:17


@pytest.fixture
def fake():
    with FakePolar(token=TOKEN) as server:
        yield server


@pytest.fixture
def beat():
    """`beat(at)`: a beat process started at `at`, stopped at the end of the test (it saves its state then,
    while the test database is still there, not when this process exits)."""
    started = []

    def start(at: dt.datetime) -> DatabaseScheduler:
        with time_machine.travel(at, tick=False):
            started.append(DatabaseScheduler(app=app))
        return started[-1]

    yield start
    for scheduler in started:
        scheduler._finalize()


def connected(fake, watermark):
    return ProcessorConnectionFactory(
        workspace=WorkspaceFactory(), api_base_url=fake.base_url, api_token=TOKEN, reconciled_through=watermark
    )


def beat_sends(scheduler: DatabaseScheduler, broker, at: dt.datetime) -> list[str]:
    """What one beat process sends at `at`: each entry due then (`celery beat` ticks until none is)."""
    before = len(broker.sent)
    with time_machine.travel(at, tick=False):
        while scheduler.tick() == 0:
            pass
    return broker.names()[before:]


def run_reconciles(broker, at: dt.datetime) -> None:
    """A worker running the reconcile jobs beat sent (the other entries' messages are left out) and the
    runs they queue (through the outbox)."""
    broker.sent[:] = [message for message in broker.sent if message[0] == RECONCILE_ALL]
    with time_machine.travel(at, tick=False):
        broker.run()


@pytest.mark.django_db(transaction=True)  # beat closes its connection between reads
def test_beat_restarted_after_missed_slots_sends_one_catch_up_reconcile_whose_window_covers_the_gap(fake, broker, beat):
    connections = [connected(fake, SLOT), connected(fake, SLOT)]
    # Orders placed while beat was down, one just inside the last run's overlap.
    placed = [SLOT - OVERLAP + dt.timedelta(minutes=5), *(SLOT + dt.timedelta(hours=h, minutes=20) for h in range(5))]
    served = {fake.add_order(created_at=at)["id"] for at in placed}

    first_beat = beat(SLOT - dt.timedelta(minutes=1))  # installs the schedule's rows
    assert beat_sends(first_beat, broker, SLOT).count(RECONCILE_ALL) == 1  # the 10:17 slot, as usual
    first_beat.sync()  # it saves what it sent (every few minutes), then dies: down for five slots
    broker.sent.clear()

    restarted = beat(RESTART)
    assert beat_sends(restarted, broker, RESTART).count(RECONCILE_ALL) == 1  # one catch-up, not five
    assert RECONCILE_ALL not in beat_sends(restarted, broker, RESTART + dt.timedelta(minutes=30))
    run_reconciles(broker, RESTART)

    for connection in connections:
        (run,) = SyncRun.objects.filter(connection=connection)
        assert (run.status, run.window_start, run.window_end) == ("succeeded", SLOT - OVERLAP, RESTART)
        connection.refresh_from_db()
        assert connection.reconciled_through == RESTART
        assert set(Order.objects.filter(connection=connection).values_list("external_id", flat=True)) == served


@pytest.mark.django_db(transaction=True)  # beat closes its connection between reads
def test_two_beats_at_once_make_one_run_per_connection_and_one_copy_of_each_order(fake, broker, beat):
    connections = [connected(fake, SLOT - dt.timedelta(hours=1)), connected(fake, SLOT - dt.timedelta(hours=1))]
    fake.add_order(created_at=SLOT - dt.timedelta(minutes=30))
    beats = [beat(SLOT - dt.timedelta(minutes=1)), beat(SLOT - dt.timedelta(minutes=1))]  # started twice by mistake
    assert [beat_sends(beat, broker, SLOT).count(RECONCILE_ALL) for beat in beats] == [1, 1]
    run_reconciles(broker, SLOT)

    assert SyncRun.objects.count() == 2
    for connection in connections:
        assert SyncRun.objects.get(connection=connection).status == "succeeded"
        assert Order.objects.filter(connection=connection).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_hourly_jobs_racing_queue_one_run_per_connection(fake):
    connections = [connected(fake, SLOT) for _ in range(5)]
    barrier = threading.Barrier(4)
    queued = []

    def hourly_job():
        try:
            barrier.wait()
            queued.append(sorted(run.pk for run in connections_reconcile_queue()))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=hourly_job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(queued) == 4 and all(runs == queued[0] for runs in queued) and len(queued[0]) == 5
    assert sorted(SyncRun.objects.values_list("connection_id", flat=True)) == sorted(c.pk for c in connections)
