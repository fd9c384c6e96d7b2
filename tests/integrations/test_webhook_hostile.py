"""Hostile bodies, validly signed, at POST /webhooks/polar/{workspace}: a 4xx that stores nothing, or
(valid JSON whose fields are merely odd) a 202 whose processing ends the row cleanly; never a 5xx."""

import base64
import hashlib
import hmac

import pytest
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import WebhookEvent, WebhookEventStatus
from integrations.services.webhooks import webhook_event_process
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.hostile import hostile_bodies
from tests.integrations.polar import payload, sign

# The inbox writes through its own database alias (settings: "webhook_inbox").
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def signed(body: bytes) -> dict[str, str]:
    """Polar's headers for any bytes: the HMAC of `id.timestamp.body`, keyed with the secret's bytes."""
    if utf8(body):
        return sign(body, POLAR_SECRET)
    headers = sign(b"", POLAR_SECRET)
    to_sign = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new(POLAR_SECRET.encode(), to_sign, hashlib.sha256).digest()
    return {**headers, "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


def stored() -> dict[str, int]:
    models = [*apps.get_app_config("integrations").get_models(), *apps.get_app_config("attribution").get_models()]
    return {model.__name__: model.objects.count() for model in models}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_signed_hostile_bodies_never_fail(client, broker, data):
    connection = ProcessorConnectionFactory()
    body = data.draw(hostile_bodies(payload("order_created_purchase")))
    before = stored()

    response = client.generic(
        "POST",
        f"/webhooks/polar/{connection.workspace.public_id}",
        body,
        content_type="application/json",
        headers=signed(body),
    )

    # A body that is not UTF-8 cannot be verified (Standard Webhooks signs text): 401, else 400.
    assert response.status_code in (202, 400, 401, 413)
    assert response.status_code != 401 or not utf8(body)
    if response.status_code != 202:
        assert stored() == before
        return
    event = WebhookEvent.objects.get(connection=connection)
    if event.status == WebhookEventStatus.RECEIVED:
        event = webhook_event_process(event_id=event.pk)
    # Settled: processed, ignored, or failed for good (no retry of a delivery that cannot get better).
    assert event.status in (WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED, WebhookEventStatus.FAILED)
    assert event.retry_at is None
