"""Outbound webhooks (issue 15 item 1, CONTRACTS §5 and §7): a local receiver gets each sale, signed per
Standard Webhooks and verifiable with the `standardwebhooks` library and the secret exactly as the API
answered it; deliveries are retried from the database with backoff for at least 24 hours, `410` disables
an endpoint, and neither a replay nor a redelivered task sends anything twice."""

import datetime as dt
import json

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from attribution.services.conversions import identities_apply
from attribution.services.pixel import identity_bind
from integrations.models import Delivery, DeliveryStatus, EndpointStatus, OutboundEvent, WebhookEndpoint
from integrations.services import outbound_webhooks as outbound
from tests.factories.engine import TouchFactory
from tests.factories.integrations import ProcessorConnectionFactory, webhook_deliver
from tests.factories.workspaces import MembershipFactory
from tests.integrations.polar import payload

pytestmark = pytest.mark.django_db

PLACED = dt.datetime(2026, 9, 3, 14, 22, tzinfo=dt.UTC)  # the reference Polar order
VISITOR = "v_01J8Z3K2M4"  # its customer's metadata
SALES = ["sale.created", "sale.updated", "sale.refunded"]


@pytest.fixture
def connection(workspace):
    return ProcessorConnectionFactory(workspace=workspace)


def endpoint_add(api_client, connection, url: str, events=SALES) -> dict:
    answer = api_client.post("/api/v1/webhook-endpoints/", {"url": url, "events": events}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def newsletter_touch(workspace, visitor=VISITOR, days_before=2, channel="Newsletter"):
    TouchFactory(
        workspace=workspace,
        visitor_id=visitor,
        occurred_at=PLACED - dt.timedelta(days=days_before),
        channel=channel,
        channel_group="Email",
    )


def verified(secret: str, request: tuple[dict, bytes]) -> dict:
    headers, body = request
    return Webhook(secret).verify(body, headers)


def test_a_new_polar_order_reaches_the_receiver_as_sale_created(
    api_client, connection, receiver, local_outbound, broker, committed
):
    hook = receiver()
    created = endpoint_add(api_client, connection, hook.url)
    assert created["secret"].startswith("whsec_") and created["events"] == SALES
    newsletter_touch(connection.workspace)

    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)

    [request] = hook.requests
    event = verified(created["secret"], request)
    assert event["type"] == "sale.created"
    data = event["data"]
    assert (data["source"], data["processor"], data["amount"], data["currency"]) == ("polar", "polar", "44.10", "USD")
    assert (data["channel"], data["visitor_id"], data["matched_by"]) == ("Newsletter", VISITOR, "metadata")
    assert data["credits"]["last_touch"] == [{"channel": "Newsletter", "weight": "1.000000"}]
    assert set(data["credits"]) == {"last_touch", "first_touch", "linear", "position_based", "time_decay"}
    assert request[0]["webhook-id"] == OutboundEvent.objects.get().public_id
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED

    # The processor retries its webhook, reconcile sees the order again: nothing more is told.
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    assert len(hook.requests) == 1


def test_a_refund_is_told_as_sale_refunded(api_client, connection, receiver, local_outbound, broker, committed):
    hook = receiver()
    secret = endpoint_add(api_client, connection, hook.url)["secret"]
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    refund = payload("refund_created", amount=1000, created_at="2026-09-05T10:00:00Z")
    webhook_deliver(connection, refund, committed, broker)

    types = [verified(secret, r)["type"] for r in hook.requests]
    assert types == ["sale.created", "sale.refunded"]
    refunded = verified(secret, hook.requests[-1])["data"]
    assert (refunded["refunded"], refunded["status"]) == ("10.00", "partially_refunded")


def test_a_late_email_match_is_told_as_sale_updated(
    api_client, connection, receiver, local_outbound, broker, committed
):
    hook = receiver()
    secret = endpoint_add(api_client, connection, hook.url)["secret"]
    body = payload("order_created_purchase")
    body["data"]["customer"]["metadata"] = {}  # the checkout lost the visitor id
    webhook_deliver(connection, body, committed, broker)
    assert verified(secret, hook.requests[0])["data"]["channel"] == "Unattributed"

    newsletter_touch(connection.workspace, visitor="v_browser", channel="YouTube")
    identity_bind(workspace_id=connection.workspace_id, visitor_id="v_browser", email="jana@example.com", now=PLACED)
    with committed():
        identities_apply(workspace=connection.workspace)
    broker.run()

    updated = verified(secret, hook.requests[-1])
    assert updated["type"] == "sale.updated"
    assert (updated["data"]["channel"], updated["data"]["matched_by"]) == ("YouTube", "email")
    assert len(hook.requests) == 2


def test_nothing_is_stored_for_a_workspace_without_endpoints(connection, broker, committed):
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    assert not OutboundEvent.objects.exists()


def test_an_endpoint_gets_only_the_events_it_asked_for(
    api_client, connection, receiver, local_outbound, broker, committed
):
    hook = receiver()
    endpoint_add(api_client, connection, hook.url, events=["sale.refunded"])
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    assert hook.requests == []


# Retries ---------------------------------------------------------------------------------------------


def emitted(connection, url: str) -> Delivery:
    """One sale event to a new endpoint at `url`, attempted once (as the worker does after the commit)."""
    endpoint, _ = outbound.endpoint_create(workspace=connection.workspace, url=url, events=SALES)
    outbound.event_emit(
        workspace_id=connection.workspace_id,
        event_type="sale.created",
        subject="order:1",
        dedupe_key="sale.created:1",
        data={"order_id": 1},
    )
    delivery = Delivery.objects.get(endpoint=endpoint)
    outbound.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def retry_due(delivery: Delivery, broker) -> Delivery:
    """Travel to the delivery's next attempt and let the minute sweep send it."""
    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert outbound.deliveries_sweep() == 1
        broker.run()
    delivery.refresh_from_db()
    return delivery


def test_a_500_then_200_delivers_once_with_both_attempts_recorded(connection, receiver, local_outbound, broker):
    hook = receiver(statuses=[500, 200], body=b'{"error": "try later"}')
    delivery = emitted(connection, hook.url)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.next_attempt_at > timezone.now()
    assert outbound.deliveries_sweep() == 0  # not due yet

    delivery = retry_due(delivery, broker)

    assert delivery.status == DeliveryStatus.DELIVERED
    attempts = list(delivery.attempt_rows.values_list("status_code", "excerpt"))
    assert attempts == [(500, '{"error": "try later"}'), (200, '{"error": "try later"}')]
    ids = {headers["webhook-id"] for headers, _ in hook.requests}
    assert len(hook.requests) == 2 and len(ids) == 1  # one message id: the receiver's idempotency key
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert outbound.deliveries_sweep() == 0


def test_410_gone_disables_the_endpoint(connection, receiver, local_outbound, broker):
    hook = receiver(status=410)
    delivery = emitted(connection, hook.url)
    endpoint = delivery.endpoint
    endpoint.refresh_from_db()
    assert (delivery.status, endpoint.status) == (DeliveryStatus.FAILED, EndpointStatus.DISABLED)
    assert "410" in endpoint.disabled_reason
    assert (
        outbound.event_emit(
            workspace_id=connection.workspace_id, event_type="sale.created", subject="o:2", dedupe_key="k2", data={}
        )
        is None
    )  # a disabled endpoint subscribes to nothing


def closed_port_url(receiver) -> str:
    gone = receiver()
    gone.close()  # nothing listens there any more: every attempt fails to connect
    return gone.url


def test_a_receiver_that_never_answers_is_retried_for_at_least_24_hours_then_failed(
    connection, receiver, local_outbound, broker
):
    delivery = emitted(connection, closed_port_url(receiver))
    first = delivery.first_attempt_at
    waits = []
    while delivery.status == DeliveryStatus.PENDING:
        waits.append((delivery.next_attempt_at - timezone.now()).total_seconds())
        with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
            assert outbound.deliveries_sweep() == 1
            broker.run()
            last = timezone.now()
        delivery.refresh_from_db()
        assert delivery.attempts < 40

    assert delivery.status == DeliveryStatus.FAILED
    assert last - first >= dt.timedelta(hours=24)
    assert waits[0] < 60 and max(waits) > 3600  # backoff: seconds at first, hours later
    assert delivery.attempt_rows.count() == delivery.attempts
    assert set(delivery.attempt_rows.values_list("error", flat=True)) == {"Could not connect to the endpoint."}


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owner_told(
    connection, receiver, local_outbound, broker, committed
):
    owner = MembershipFactory(workspace=connection.workspace, role="owner").user
    url = closed_port_url(receiver)
    delivery = emitted(connection, url)
    start = timezone.now()
    for day in (1, 2, 3):  # a new event every day, each failing
        with time_machine.travel(start + dt.timedelta(days=day, minutes=1), tick=False):
            event = outbound.event_emit(
                workspace_id=connection.workspace_id,
                event_type="sale.created",
                subject=f"order:{day + 1}",
                dedupe_key=f"k{day}",
                data={},
            )
            if event is not None:
                with committed():
                    outbound.delivery_send(delivery_id=event.deliveries.get().pk)
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    assert endpoint.status == EndpointStatus.DISABLED
    assert "3 days" in endpoint.disabled_reason
    [message] = mail.outbox
    assert message.to == [owner.email] and url in message.body
    assert not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists()


def test_a_redelivered_task_sends_nothing_twice(connection, receiver, local_outbound, broker):
    hook = receiver()
    delivery = emitted(connection, hook.url)
    outbound.delivery_send(delivery_id=delivery.pk)  # the broker delivers the acks_late message again
    assert len(hook.requests) == 1 and delivery.attempt_rows.count() == 1


def test_a_worker_killed_mid_delivery_is_sent_once_after_its_claim_runs_out(
    connection, receiver, local_outbound, broker, monkeypatch
):
    hook = receiver()
    outbound.endpoint_create(workspace=connection.workspace, url=hook.url, events=SALES)
    outbound.event_emit(
        workspace_id=connection.workspace_id, event_type="sale.created", subject="o:1", dedupe_key="k", data={}
    )
    delivery = Delivery.objects.get()

    class WorkerLost(BaseException):
        pass

    def killed(*args, **kwargs):
        raise WorkerLost

    with monkeypatch.context() as patched:
        patched.setattr(outbound, "outbound_post", killed)
        with pytest.raises(WorkerLost):
            outbound.delivery_send(delivery_id=delivery.pk)  # claimed, then the worker died
    assert outbound.deliveries_sweep() == 0  # its claim still holds: nobody sends it meanwhile
    outbound.delivery_send(delivery_id=delivery.pk)  # the broker's redelivery within the claim: nothing
    assert hook.requests == []

    delivery.refresh_from_db()
    delivery = retry_due(delivery, broker)
    assert delivery.status == DeliveryStatus.DELIVERED and len(hook.requests) == 1


def test_during_a_rotation_both_secrets_sign(connection, receiver, local_outbound):
    hook = receiver()
    endpoint, old = outbound.endpoint_create(workspace=connection.workspace, url=hook.url, events=SALES)
    new = outbound.endpoint_secret_rotate(endpoint=endpoint)
    outbound.endpoint_test_send(endpoint=endpoint)
    outbound.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert verified(old, hook.requests[0])["type"] == verified(new, hook.requests[0])["type"] == "webhook.test"

    with time_machine.travel(timezone.now() + outbound.ROTATION_WINDOW + dt.timedelta(minutes=1), tick=False):
        outbound.endpoint_test_send(endpoint=endpoint)
        outbound.delivery_send(delivery_id=Delivery.objects.latest("pk").pk)
        assert hook.requests[1][0]["webhook-signature"].count("v1,") == 1
        assert verified(new, hook.requests[1])["type"] == "webhook.test"


def test_the_body_is_sent_byte_for_byte_as_stored(connection, receiver, local_outbound):
    hook = receiver(statuses=[500, 200])
    delivery = emitted(connection, hook.url)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    outbound.delivery_send(delivery_id=delivery.pk)
    assert hook.received[0] == hook.received[1] == delivery.event.body.encode()
    assert json.loads(hook.received[0])["data"] == {"order_id": 1}
