"""Outbound webhooks (CONTRACTS §7): the layers that know a fact emit it here; each subscribed endpoint gets
one delivery of the event's stored body, signed per Standard Webhooks, retried from the database.

A delivery is due when `next_attempt_at` has passed. Sending first claims it (a conditional update that
moves `next_attempt_at` past the attempt's longest possible duration), so a task the broker redelivers
after a worker restart, or the minute sweep meeting a delivery in flight, sends nothing again. Retries
follow exponential backoff with jitter for RETRY_FOR from the first attempt, then the delivery fails.
"""

import base64
import json
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import requests
from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from standardwebhooks import Webhook

from integrations.models.outbound import (
    TEST_EVENT,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EndpointStatus,
    EventType,
    OutboundEvent,
    WebhookEndpoint,
)
from trackrev.common.backoff import backoff_seconds
from trackrev.common.outbound import OutboundRefused, outbound_post, url_check
from trackrev.workspaces.models import Role, Workspace

logger = logging.getLogger(__name__)

SEND_TASK = "integrations.webhook_deliveries_send"
RETRY_FOR = timedelta(hours=26)  # at least 24 hours of retries whatever the jitter drew
FIRST_RETRY, RETRY_CAP = 10, 3 * 60 * 60  # seconds
CLAIM = timedelta(seconds=60)  # longer than an attempt can last (connect + read timeouts)
ROTATION_WINDOW = timedelta(hours=24)  # the old secret keeps signing this long after a rotation
FAILING_DAYS = 3  # an endpoint that has not answered 2xx for this long is disabled
SWEEP_LIMIT = 5000
BATCH = 50  # deliveries per task
ENDPOINTS_MAX = 20


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def events_validate(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [e for e in chosen if e not in EventType.values]
    if unknown or not chosen:
        raise ValidationError(
            f"Choose events among {', '.join(EventType.values)}."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        )
    return chosen


def endpoint_url_validate(url: str) -> str:
    try:
        url_check(url)
    except OutboundRefused as refused:
        raise ValidationError(str(refused)) from refused
    return url


def endpoint_create(*, workspace: Workspace, url: str, events: Iterable[str]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, which is returned here once and never rendered again."""
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=endpoint_url_validate(url), events=events_validate(events), secret=secret_new()
    )
    return endpoint, endpoint.secret


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one signs beside it for ROTATION_WINDOW, so receivers can switch without a gap."""
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret_new()
    endpoint.previous_secret_until = timezone.now() + ROTATION_WINDOW
    endpoint.save(update_fields=["previous_secret", "secret", "previous_secret_until"])
    return endpoint.secret


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    endpoint.status, endpoint.disabled_reason, endpoint.failing_since = EndpointStatus.ACTIVE, "", None
    endpoint.save(update_fields=["status", "disabled_reason", "failing_since"])


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """No more deliveries: the pending ones fail with the reason (a person may resend them)."""
    endpoint.status, endpoint.disabled_reason = EndpointStatus.DISABLED, reason
    endpoint.save(update_fields=["status", "disabled_reason"])
    endpoint.deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error=reason[:300], next_attempt_at=None
    )


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def subscribers(*, workspace_id: int, event_type: str) -> list[WebhookEndpoint]:
    """The active endpoints of the workspace that asked for `event_type`."""
    endpoints = WebhookEndpoint.objects.filter(workspace_id=workspace_id, status=EndpointStatus.ACTIVE)
    return [e for e in endpoints if event_type in e.events]


def events_listened(*, workspace_id: int) -> set[str]:
    """The event types some active endpoint of the workspace asked for."""
    lists = WebhookEndpoint.objects.filter(workspace_id=workspace_id, status=EndpointStatus.ACTIVE)
    return {event for events in lists.values_list("events", flat=True) for event in events}


def event_emit(
    *, workspace_id: int, event_type: str, subject: str, dedupe_key: str, data: dict
) -> OutboundEvent | None:
    """Tell the subscribed endpoints, once per `dedupe_key` whatever replays the emitter; in the caller's
    transaction, sent after it commits. None when nobody listens or it was told already."""
    endpoints = subscribers(workspace_id=workspace_id, event_type=event_type)
    if not endpoints:
        return None
    return _event_create(workspace_id, event_type, subject, dedupe_key, data, endpoints)


def endpoint_test_send(*, endpoint: WebhookEndpoint) -> OutboundEvent:
    """A `webhook.test` event to this endpoint alone, for the Webhooks page's "Send test event"."""
    data = {"endpoint_id": endpoint.public_id, "message": "A test event from TrackRev."}
    key = f"{TEST_EVENT}:{secrets.token_hex(8)}"
    return _event_create(endpoint.workspace_id, TEST_EVENT, f"endpoint:{endpoint.pk}", key, data, [endpoint])


def _event_create(workspace_id, event_type, subject, dedupe_key, data, endpoints) -> OutboundEvent | None:
    now = timezone.now()
    body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    try:
        with transaction.atomic():
            event = OutboundEvent.objects.create(
                workspace_id=workspace_id, type=event_type, subject=subject, dedupe_key=dedupe_key, body=body
            )
    except IntegrityError:
        return None  # told already (a replay, or a concurrent emitter won)
    deliveries = Delivery.objects.bulk_create(
        [Delivery(event=event, endpoint=endpoint, next_attempt_at=now) for endpoint in endpoints]
    )
    _send_after_commit([d.pk for d in deliveries])
    return event


def last_event_body(*, workspace_id: int, subject: str, types: Iterable[str]) -> dict | None:
    """The body last emitted about `subject` among `types`, for an emitter to tell what changed since."""
    body = (
        OutboundEvent.objects.filter(workspace_id=workspace_id, subject=subject, type__in=list(types))
        .order_by("-created_at", "-pk")
        .values_list("body", flat=True)
        .first()
    )
    return json.loads(body) if body else None


def _send_after_commit(delivery_ids: list[int]) -> None:
    """Ask a worker to send now; if the broker is down the minute sweep sends them (they are due)."""

    def send():
        for start in range(0, len(delivery_ids), BATCH):
            try:
                current_app.send_task(SEND_TASK, args=[delivery_ids[start : start + BATCH]])
            except (BrokerError, OSError):  # the deliveries wait, due, in the database
                logger.warning("Outbound deliveries left for the sweep: the broker refused them", exc_info=True)
                return

    transaction.on_commit(send)


def delivery_resend(*, delivery: Delivery) -> None:
    """Send again now, with a new retry window (the Webhooks page's and the admin's "Resend")."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), first_attempt_at=None, last_error=""
    )
    _send_after_commit([delivery.pk])


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Every minute: hand the due deliveries to workers. Returns how many were due."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(endpoint__status=EndpointStatus.ACTIVE)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for start in range(0, len(due), BATCH):
        current_app.send_task(SEND_TASK, args=[due[start : start + BATCH]])
    return len(due)


def signature_headers(*, endpoint: WebhookEndpoint, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation both secrets sign (space-separated signatures)."""
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at:
        keys.append(endpoint.previous_secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(key).sign(msg_id, at, body) for key in keys),
        "content-type": "application/json",
        "user-agent": "TrackRev-Webhooks/1.0",
    }


def delivery_send(*, delivery_id: int) -> None:
    """One attempt, if the delivery is due and this caller claims it."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + CLAIM, attempts=F("attempts") + 1, first_attempt_at=Coalesce("first_attempt_at", now)
    )
    if not claimed:
        return
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.status != EndpointStatus.ACTIVE:
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.FAILED, last_error="Endpoint disabled.")
        return
    headers = signature_headers(endpoint=endpoint, msg_id=delivery.event.public_id, body=delivery.event.body, at=now)
    status, duration, excerpt, error = None, 0, "", ""
    try:
        answer = outbound_post(endpoint.url, body=delivery.event.body.encode(), headers=headers)
        status, duration, excerpt = answer.status, answer.duration_ms, answer.excerpt
    except OutboundRefused as refused:
        error = str(refused)
    except requests.Timeout:
        error = "The endpoint did not answer in time."
    except requests.RequestException:
        error = "Could not connect to the endpoint."
    _attempt_record(delivery, at=now, status=status, duration=duration, excerpt=excerpt, error=error)


@transaction.atomic
def _attempt_record(delivery: Delivery, *, at: datetime, status, duration: int, excerpt: str, error: str) -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=at, status_code=status, duration_ms=duration, excerpt=excerpt, error=error
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    finished = timezone.now()
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = (
            DeliveryStatus.DELIVERED,
            finished,
            None,
            "",
        )
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_error"])
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        return
    delivery.last_error = (error or f"The endpoint answered {status}.")[:300]
    if status == 410:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        endpoint_disable(endpoint=endpoint, reason="The endpoint answered 410 Gone.")
        return
    if finished - delivery.first_attempt_at >= RETRY_FOR:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        wait = backoff_seconds(delivery.attempts, first=FIRST_RETRY, cap=RETRY_CAP)
        delivery.next_attempt_at = finished + timedelta(seconds=wait)
    delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
    if endpoint.failing_since is None:
        endpoint.failing_since = at
        endpoint.save(update_fields=["failing_since"])
    elif finished - endpoint.failing_since >= timedelta(days=FAILING_DAYS):
        endpoint_disable(endpoint=endpoint, reason=f"No successful delivery for {FAILING_DAYS} days.")
        transaction.on_commit(lambda: _owners_tell(endpoint))


def _owners_tell(endpoint: WebhookEndpoint) -> None:
    owners = endpoint.workspace.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True)
    page = settings.TRACKREV_PUBLIC_URL + reverse("integrations:webhook_endpoints")
    context = {"endpoint": endpoint, "workspace": endpoint.workspace, "days": FAILING_DAYS, "page_url": page}
    body = render_to_string("integrations/emails/endpoint_disabled.txt", context)
    send_mail(f"A webhook endpoint of {endpoint.workspace.name} was disabled", body, None, list(owners))
