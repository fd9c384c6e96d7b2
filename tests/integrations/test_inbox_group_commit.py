"""The inbox's group commit (integrations/services/inbox.py): one statement per batch, every caller
answered only after its own row is committed, repeats and bad rows kept apart."""

import threading

import pytest
from django.db import OperationalError
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from integrations.models import WebhookEvent
from integrations.services import inbox
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.integrations.polar import encode, payload, sign


def pending(connection, delivery_id: str) -> inbox._Pending:
    row = {
        "workspace_id": connection.workspace_id,
        "connection_id": connection.pk,
        "processor": "polar",
        "delivery_id": delivery_id,
        "event_type": "order.created",
        "body": "{}",
        "body_sha256": "0" * 64,
        "received_at": timezone.now(),
    }
    return inbox._Pending(key=(connection.pk, delivery_id), values=inbox._values(inbox._db(), row))


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_batch_is_one_statement_and_repeats_share_the_first_copy(monkeypatch):
    connection = ProcessorConnectionFactory()
    stored = pending(connection, "msg_seen")
    inbox._write([stored])
    batch = [pending(connection, f"msg_{i}") for i in range(4)] + [
        pending(connection, "msg_1"),  # a repeat within the batch
        pending(connection, "msg_seen"),  # a repeat of a stored delivery
    ]

    real, statements = inbox._insert_rows, []
    monkeypatch.setattr(inbox, "_insert_rows", lambda db, rows: statements.append(len(rows)) or real(db, rows))
    inbox._write(batch)

    assert statements == [5]  # four new deliveries and one already stored, in one statement
    assert all(p.done.is_set() and p.error is None for p in batch)
    assert [p.pk is not None for p in batch] == [True, True, True, True, False, False]
    assert {p.pk for p in batch[:4]} == set(WebhookEvent.objects.exclude(pk=stored.pk).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_bad_row_fails_alone():
    connection = ProcessorConnectionFactory()
    good = [pending(connection, "msg_a"), pending(connection, "msg_b")]
    orphan = pending(connection, "msg_orphan")
    orphan.values[[f.name for f in inbox._insert_fields()].index("connection")] = connection.pk + 1000

    inbox._write([good[0], orphan, good[1]])

    assert orphan.error is not None and orphan.pk is None
    assert all(p.error is None and p.pk for p in good)
    assert sorted(WebhookEvent.objects.values_list("delivery_id", flat=True)) == ["msg_a", "msg_b"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_dropped_connection_is_reopened_once(monkeypatch):
    connection = ProcessorConnectionFactory()
    real, calls = inbox._insert_rows, []

    def flaky(db, rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(db, rows)

    monkeypatch.setattr(inbox, "_insert_rows", flaky)
    row = pending(connection, "msg_retry")
    inbox._write([row])
    assert calls == [1, 1] and row.error is None and WebhookEvent.objects.get().pk == row.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_connection_closed_under_the_writer_is_reopened():
    connection = ProcessorConnectionFactory()
    writer = inbox._db()
    writer.ensure_connection()
    writer.connection.close()  # as a server restart leaves it: Django still holds the object

    row = pending(connection, "msg_after_restart")
    inbox._write([row])

    assert row.error is None and WebhookEvent.objects.get().pk == row.pk


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_deliveries_through_the_writer_thread(settings, monkeypatch):
    """Real request threads and the real writer thread: every new delivery is stored and dispatched
    once, every repeat is acknowledged without a second row."""
    settings.WEBHOOK_GROUP_COMMIT = True
    dispatched = []
    monkeypatch.setattr("integrations.services.webhooks.webhook_event_dispatch", dispatched.append)
    connection = ProcessorConnectionFactory()
    path = f"/webhooks/polar/{connection.workspace.public_id}"
    bodies = [encode(payload("order_created_purchase", id=f"order-{i}")) for i in range(10)]
    deliveries = [(body, sign(body, POLAR_SECRET)) for body in bodies]
    deliveries += [deliveries[0]] * 4  # Polar retrying one delivery while the first is in flight
    barrier, statuses = threading.Barrier(len(deliveries)), []

    def deliver(body, headers):
        try:
            barrier.wait()
            response = Client().generic("POST", path, body, content_type="application/json", headers=headers)
            statuses.append(response.status_code)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=deliver, args=delivery) for delivery in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [202] * len(deliveries)
    assert WebhookEvent.objects.count() == 10
    assert sorted(dispatched) == sorted(WebhookEvent.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_delivery_that_cannot_be_stored_is_503_with_retry_after(client, settings, monkeypatch):
    settings.WEBHOOK_GROUP_COMMIT = True
    monkeypatch.setattr(inbox, "WAIT_SECONDS", 0.05)
    monkeypatch.setattr(inbox, "_writer", type("Stalled", (), {"submit": lambda self, item: None})())
    connection = ProcessorConnectionFactory()
    body = encode(payload("order_created_purchase"))

    response = client.generic(
        "POST",
        f"/webhooks/polar/{connection.workspace.public_id}",
        body,
        content_type="application/json",
        headers=sign(body, POLAR_SECRET),
    )

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"detail": "Could not store the delivery; retry later."}
    assert not WebhookEvent.objects.exists()
