"""CONTRACTS.md §4: the status table of POST /webhooks/{processor}/{workspace}, and the inbox, under
the production configuration: request threads commit through the inbox's writer thread (group
commit), and stored rows reach the worker through the dispatch thread."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection as db_connection

from integrations.dispatch import PROCESS_MANY
from integrations.models import Order, WebhookEvent, WebhookEventStatus
from integrations.services.webhooks import (
    STUCK_AFTER,
    webhook_event_process,
    webhook_event_reprocess,
    webhook_events_sweep,
)
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.integrations.polar import encode, payload, sign
from trackrev.outbox.services import DELIVER_TASK

# The inbox writes through its own database alias (settings: "webhook_inbox").
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def connection():
    return ProcessorConnectionFactory()


def url(connection, processor="polar"):
    return f"/webhooks/{processor}/{connection.workspace.public_id}"


def post(client, path, body: bytes, headers: dict):
    return client.generic("POST", path, body, content_type="application/json", headers=headers)


def test_new_delivery_is_stored_enqueued_and_acknowledged(client, connection, dispatched, broker):
    body = encode(payload("order_created_purchase"))
    headers = sign(body, POLAR_SECRET)
    response = post(client, url(connection), body, headers)

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert (event.delivery_id, event.event_type, event.status) == (headers["webhook-id"], "order.created", "received")
    assert event.body.encode() == body
    assert dispatched() == [[event.pk]]
    assert not Order.objects.exists()  # processing is asynchronous

    broker.run()
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    assert Order.objects.get().amount_minor == 4410


def test_same_delivery_five_times_is_one_row_and_one_order(client, connection, dispatched):
    body = encode(payload("order_created_purchase"))
    headers = sign(body, POLAR_SECRET)
    statuses = [post(client, url(connection), body, headers).status_code for _ in range(5)]
    assert statuses == [202] * 5
    event = WebhookEvent.objects.get()
    assert dispatched() == [[event.pk]]  # duplicates are not enqueued again

    for _ in range(5):
        webhook_event_process(event_id=event.pk)  # replays are no-ops
    assert Order.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1


def test_unused_event_type_is_recorded_as_ignored(client, connection, dispatched):
    body = payload("order_created_purchase")
    body["type"] = "benefit_grant.created"
    raw = encode(body)
    response = post(client, url(connection), raw, sign(raw, POLAR_SECRET))
    assert response.status_code == 202
    assert WebhookEvent.objects.get().status == WebhookEventStatus.IGNORED
    assert dispatched() == []


@pytest.mark.parametrize("group_commit", [True, False])
def test_a_delivery_is_stored_with_group_commit_on_and_off(client, connection, settings, group_commit):
    settings.WEBHOOK_GROUP_COMMIT = group_commit
    body = encode(payload("order_created_purchase"))
    assert post(client, url(connection), body, sign(body, POLAR_SECRET)).status_code == 202
    assert post(client, url(connection), body, sign(body, POLAR_SECRET)).status_code == 202
    assert WebhookEvent.objects.count() == 2


def test_unknown_enum_value_is_ignored_not_failed(client, connection):
    raw = encode(payload("order_created_purchase", status="on_hold"))
    assert post(client, url(connection), raw, sign(raw, POLAR_SECRET)).status_code == 202
    event = webhook_event_process(event_id=WebhookEvent.objects.get().pk)
    assert event.status == WebhookEventStatus.IGNORED
    assert not Order.objects.exists()


@pytest.mark.parametrize("problem", ["missing", "invalid", "stale", "tampered"])
def test_bad_signature_is_401_and_stores_nothing(client, connection, problem):
    body = encode(payload("order_created_purchase"))
    headers = {
        "missing": {},
        "invalid": sign(body, "whsec_not_the_secret"),
        "stale": sign(body, POLAR_SECRET, at=dt.datetime.now(tz=dt.UTC) - dt.timedelta(minutes=6)),
        "tampered": sign(body, POLAR_SECRET),
    }[problem]
    if problem == "tampered":
        body = body.replace(b"4410", b"9999")
    assert post(client, url(connection), body, headers).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_unknown_workspace_processor_or_connection_is_404(client, connection):
    body = encode(payload("order_created_purchase"))
    headers = sign(body, POLAR_SECRET)
    assert post(client, "/webhooks/polar/ws_doesnotexist", body, headers).status_code == 404
    assert post(client, url(connection, "stripe"), body, headers).status_code == 404
    assert post(client, url(connection, "nosuch"), body, headers).status_code == 404
    connection.status = "disabled"
    connection.save()
    assert post(client, url(connection), body, headers).status_code == 404
    assert not WebhookEvent.objects.exists()


def test_body_over_one_mebibyte_is_413(client, connection):
    body = b'{"type": "order.created", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(client, url(connection), body, sign(body, POLAR_SECRET)).status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body", [b"not json at all", b"[1, 2]", b'"a string"'])
def test_signed_body_that_is_not_a_json_object_is_400(client, connection, body):
    assert post(client, url(connection), body, sign(body, POLAR_SECRET)).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_csrf_is_not_required(connection):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    body = encode(payload("order_created_purchase"))
    assert post(client, url(connection), body, sign(body, POLAR_SECRET)).status_code == 202


def test_processing_failure_keeps_the_error_and_reprocess_recovers(connection, broker):
    broken = WebhookEvent.objects.create(
        workspace=connection.workspace,
        connection=connection,
        processor="polar",
        delivery_id="msg_broken",
        event_type="order.created",
        body='{"type": "order.created", "timestamp": "2026-09-03T14:22:05Z", "data": {"status": "paid", '
        '"billing_reason": "purchase", "id": "x"}}',
        body_sha256="0" * 64,
    )
    event = webhook_event_process(event_id=broken.pk)
    assert event.status == WebhookEventStatus.FAILED
    assert "created_at" in event.last_error
    assert event.attempts == 1

    WebhookEvent.objects.filter(pk=broken.pk).update(body=encode(payload("order_created_purchase")).decode())
    webhook_event_reprocess(event=event)
    assert broker.names() == [DELIVER_TASK]
    broker.run()
    assert WebhookEvent.objects.get(pk=broken.pk).status == WebhookEventStatus.PROCESSED
    assert Order.objects.count() == 1


def test_sweeper_reenqueues_rows_stuck_unprocessed(connection, broker):
    stuck = WebhookEvent.objects.create(
        workspace=connection.workspace, connection=connection, processor="polar", delivery_id="a", body="{}"
    )
    assert webhook_events_sweep() == 0
    later = dt.datetime.now(tz=dt.UTC) + STUCK_AFTER + dt.timedelta(seconds=1)
    with time_machine.travel(later):
        assert webhook_events_sweep() == 1
    assert broker.sent == [(PROCESS_MANY, [[stuck.pk]])]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_replays_make_one_row_and_one_order():
    from django.test import Client

    connection = ProcessorConnectionFactory()
    body = encode(payload("order_created_purchase"))
    headers = sign(body, POLAR_SECRET)
    barrier = threading.Barrier(6)
    statuses = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(post(Client(), url(connection), body, headers).status_code)
            for event_id in WebhookEvent.objects.values_list("pk", flat=True):
                webhook_event_process(event_id=event_id)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [202] * 6
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.count() == 1
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


def test_admin_reprocess_action_requeues(admin_client, connection, broker):
    event = WebhookEvent.objects.create(
        workspace=connection.workspace,
        connection=connection,
        processor="polar",
        delivery_id="d",
        body=encode(payload("order_created_purchase")).decode(),
        status="failed",
        last_error="boom",
    )
    response = admin_client.post(
        "/admin/integrations/webhookevent/", {"action": "reprocess", "_selected_action": [event.pk]}
    )
    assert response.status_code == 302
    assert broker.names() == [DELIVER_TASK]
    event.refresh_from_db()
    assert (event.status, event.last_error) == ("received", "")
    broker.run()
    assert WebhookEvent.objects.get().status == "processed"


def test_reprocess_command_processes_failed_deliveries(connection):
    from django.core.management import call_command

    WebhookEvent.objects.create(
        workspace=connection.workspace,
        connection=connection,
        processor="polar",
        delivery_id="d",
        body=encode(payload("order_created_purchase")).decode(),
        status="failed",
    )
    call_command("webhook_reprocess", "--failed")
    assert WebhookEvent.objects.get().status == "processed"
    assert Order.objects.count() == 1


def test_admin_never_renders_the_secrets(admin_client, connection):
    page = admin_client.get(f"/admin/integrations/processorconnection/{connection.pk}/change/").content.decode()
    assert connection.api_token not in page
    assert connection.webhook_secret not in page


def test_deleting_a_workspace_deletes_its_inbox_through_the_connection(client, connection):
    raw = encode(payload("order_created_purchase"))
    assert post(client, url(connection), raw, sign(raw, POLAR_SECRET)).status_code == 202
    other = ProcessorConnectionFactory()
    assert post(client, url(other), raw, sign(raw, POLAR_SECRET)).status_code == 202

    connection.workspace.delete()

    assert list(WebhookEvent.objects.values_list("connection", flat=True)) == [other.pk]


def test_get_is_405(client, connection):
    assert client.get(url(connection)).status_code == 405


def test_prune_deletes_only_old_processed_and_ignored_deliveries(connection, settings):
    from integrations.services.webhooks import webhook_events_prune

    settings.WEBHOOK_INBOX_RETENTION_DAYS = 30
    old = dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=31)
    for status in WebhookEventStatus.values:
        for received_at, age in ((old, "old"), (dt.datetime.now(tz=dt.UTC), "new")):
            event = WebhookEvent.objects.create(
                workspace=connection.workspace,
                connection=connection,
                processor="polar",
                delivery_id=f"{status}-{age}",
                body="{}",
            )
            WebhookEvent.objects.filter(pk=event.pk).update(status=status, received_at=received_at)

    assert webhook_events_prune() == 2
    assert sorted(WebhookEvent.objects.values_list("delivery_id", flat=True)) == [
        "failed-new",
        "failed-old",
        "ignored-new",
        "processed-new",
        "received-new",
        "received-old",
    ]
