"""Sync requests coalesce: while a run of a connection is queued or running, asking again returns it; a new
one may be asked for a minute after the last ended (the API answers 429 with Retry-After before that)."""

import datetime as dt
import threading

import pytest
import time_machine
import yaml
from django.db import connection as db_connection
from rest_framework.test import APIClient

from integrations.models import ProcessorConnection, SyncRun
from integrations.processors.types import ChangesPage
from integrations.services.reconcile import (
    DemoConnectionSync,
    connections_reconcile_queue,
    sync_run_execute,
    sync_run_request,
)
from tests.factories.integrations import ProcessorConnectionFactory
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def connection(workspace):
    return ProcessorConnectionFactory(workspace=workspace)


def sync(api_client, connection):
    return api_client.post(f"/api/v1/integrations/{connection.pk}/sync/")


def run_of(connection, **fields) -> SyncRun:
    return SyncRun.objects.create(workspace=connection.workspace, connection=connection, **fields)


def test_ten_requests_in_a_row_make_one_run(api_client, connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        answers = [sync(api_client, connection) for _ in range(10)]

    run = SyncRun.objects.get()
    assert {answer.status_code for answer in answers} == {202}
    assert [answer.json() for answer in answers] == [{"sync_run": run.pk, "status": "queued"}] * 10
    assert len(callbacks) == 1  # one reconcile task, not ten


def test_a_running_run_is_returned_while_its_lease_holds(api_client, connection):
    with time_machine.travel(NOW - dt.timedelta(hours=2), tick=False):
        running = run_of(connection, status="running", started_at=NOW - dt.timedelta(hours=2))
    ProcessorConnection.objects.filter(pk=connection.pk).update(sync_locked_until=NOW + dt.timedelta(minutes=1))

    with time_machine.travel(NOW, tick=False):
        assert sync(api_client, connection).json() == {"sync_run": running.pk, "status": "running"}
    assert SyncRun.objects.count() == 1


def test_a_request_right_after_a_run_ended_waits_for_the_cooldown(api_client, connection):
    run_of(connection, status="succeeded", finished_at=NOW - dt.timedelta(seconds=20))

    with time_machine.travel(NOW, tick=False):
        refused = sync(api_client, connection)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused.json() == {"detail": "This connection finished a sync less than a minute ago: try again in 40 s."}
    assert SyncRun.objects.count() == 1

    with time_machine.travel(NOW + dt.timedelta(seconds=40), tick=False):
        accepted = sync(api_client, connection)
    new = SyncRun.objects.latest("id")
    assert (accepted.status_code, accepted.json()) == (202, {"sync_run": new.pk, "status": "queued"})


def test_a_running_run_whose_lease_expired_is_failed_and_replaced(api_client, connection):
    with time_machine.travel(NOW - dt.timedelta(hours=2), tick=False):
        dead = run_of(connection, status="running", started_at=NOW - dt.timedelta(hours=2))
    ProcessorConnection.objects.filter(pk=connection.pk).update(sync_locked_until=NOW - dt.timedelta(minutes=1))

    with time_machine.travel(NOW, tick=False):
        answer = sync(api_client, connection).json()

    dead.refresh_from_db()
    assert (dead.status, dead.finished_at, dead.errors) == ("failed", NOW, 1)
    assert dead.last_error == "Stopped without finishing: its worker made no progress for 15 minutes."
    assert answer == {"sync_run": SyncRun.objects.get(status="queued").pk, "status": "queued"}  # no cooldown


def test_a_queued_run_no_worker_took_is_replaced_after_half_an_hour(api_client, connection):
    with time_machine.travel(NOW - dt.timedelta(minutes=29), tick=False):
        lost = run_of(connection)
    with time_machine.travel(NOW, tick=False):
        assert sync(api_client, connection).json()["sync_run"] == lost.pk  # a busy queue, not a lost message

    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        answer = sync(api_client, connection).json()

    lost.refresh_from_db()
    assert (lost.status, lost.last_error) == ("failed", "Never started: no worker took it within 30 minutes.")
    assert answer["sync_run"] != lost.pk
    # Its message, delivered at last, runs nothing.
    assert sync_run_execute(sync_run_id=lost.pk).status == "failed"


def test_a_run_longer_than_its_lease_renews_it_and_is_not_taken_for_dead(api_client, connection):
    answers = []

    class SlowAdapter:
        """Three pages, ten minutes each: the run outlasts its first lease."""

        repairs = frozenset()

        def list_changes(self, *, since):
            for page in (1, 2, 3):
                traveller.shift(dt.timedelta(minutes=10))
                answers.append(sync(api_client, connection).json())
                yield ChangesPage(resource="orders", page=page, pages=3, changes=())

    with time_machine.travel(NOW, tick=False) as traveller:
        run = sync_run_request(connection=connection)
        assert sync_run_execute(sync_run_id=run.pk, adapter=SlowAdapter()).status == "succeeded"

    assert answers == [{"sync_run": run.pk, "status": "running"}] * 3
    assert SyncRun.objects.count() == 1


def test_the_hourly_job_never_piles_a_run_onto_an_active_one(connection, django_capture_on_commit_callbacks):
    other = ProcessorConnectionFactory(workspace=WorkspaceFactory())
    run_of(other, status="succeeded", finished_at=dt.datetime.now(tz=dt.UTC))  # no cooldown for the schedule
    with django_capture_on_commit_callbacks() as callbacks:
        first = connections_reconcile_queue()
        again = connections_reconcile_queue()

    assert [run.pk for run in again] == [run.pk for run in first]
    assert SyncRun.objects.filter(status="queued").count() == 2
    assert len(callbacks) == 2


def test_the_sync_now_button_coalesces_and_says_when_to_come_back(owner_client, connection):
    def press() -> str:
        return owner_client.post("/app/integrations/polar/sync/", follow=True).content.decode()

    assert "Sync queued: its result appears below in a minute." in press()
    assert "Sync queued: its result appears below in a minute." in press()
    SyncRun.objects.update(status="running")
    ProcessorConnection.objects.filter(pk=connection.pk).update(
        sync_locked_until=dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=5)
    )
    assert "A sync is already running: its result appears below when it ends." in press()
    assert SyncRun.objects.count() == 1

    SyncRun.objects.update(status="succeeded", finished_at=NOW - dt.timedelta(seconds=10))
    with time_machine.travel(NOW, tick=False):
        assert "try again in 50 s." in press()
    assert SyncRun.objects.count() == 1


def test_the_schema_documents_the_429_and_the_demo_400(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    responses = schema["paths"]["/api/v1/integrations/{connection_id}/sync/"]["post"]["responses"]
    assert set(responses) == {"202", "400", "401", "404", "429"}
    assert "Retry-After" in responses["429"]["headers"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_make_one_run():
    workspace = WorkspaceFactory()
    connection = ProcessorConnectionFactory(workspace=workspace)
    key = api_key_create(workspace=workspace, name="tests").raw_key
    barrier = threading.Barrier(6)
    answers = []

    def request():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            barrier.wait()
            answers.append(sync(client, connection).json())
        finally:
            db_connection.close()

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    run = SyncRun.objects.get()
    assert answers == [{"sync_run": run.pk, "status": "queued"}] * 6


def test_a_demo_connection_says_so_even_right_after_one_of_its_sample_runs(connection):
    """The demo seed's sample runs end at 3 s past each hour's 7th minute: in the minute after, "Sync now"
    still says the connection is a demo rather than "synced less than a minute ago"."""
    ProcessorConnection.objects.filter(pk=connection.pk).update(is_demo=True)
    connection.refresh_from_db()
    SyncRun.objects.create(workspace=connection.workspace, connection=connection, status="succeeded", finished_at=NOW)
    with time_machine.travel(NOW + dt.timedelta(seconds=10), tick=False), pytest.raises(DemoConnectionSync):
        sync_run_request(connection=connection)
