"""Issue 17, item 3: Redis down (nothing listening where the app looks for it). A webhook is still answered
202 from the inbox, and processed by a real worker once Redis is back; a pixel hit on the Redis buffer
path is refused with a status the sender may retry (503, Retry-After), never a 204 for a hit that was
not stored, and counted normally once Redis is back."""

import datetime as dt
import uuid

import pytest
from django.core.cache import caches
from django.db.models import F
from django.test import override_settings

from attribution.models import Touch
from attribution.services.pixel import touches_flush
from integrations import dispatch
from integrations.models import Order, WebhookEvent
from integrations.services.webhooks import STUCK_AFTER
from tests.attribution.pixel_helpers import hit, post
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.integrations.polar import encode, payload, sign
from tests.integrations.test_consumers_durable import credited, newsletter_visit
from tests.workers import redis_namespace, running_worker, wait_until, worker_app
from trackrev.outbox.models import Notification

pytestmark = pytest.mark.broker

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def redis_cache(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_with_redis_down_a_webhook_is_acknowledged_from_the_inbox_and_processed_once_redis_is_back(client, redis_url):
    connection = ProcessorConnectionFactory()
    newsletter_visit(connection.workspace)
    down = worker_app(NOWHERE, broker_transport_options={})
    down.set_default()  # the dispatch thread's app too
    down.set_current()
    body = encode(payload("order_created_purchase"))

    response = client.generic(
        "POST",
        f"/webhooks/polar/{connection.workspace.public_id}",
        body,
        content_type="application/json",
        headers=sign(body, POLAR_SECRET),
    )

    assert response.status_code == 202
    assert dispatch._batcher.drain(timeout=10)  # its publish failed, and was logged
    event = WebhookEvent.objects.get()
    assert event.status == "received" and not Order.objects.exists()

    # Redis is back; the inbox sweeper's next run (beat: every minute) finds the delivery stuck.
    WebhookEvent.objects.update(received_at=F("received_at") - STUCK_AFTER - dt.timedelta(seconds=1))
    with redis_namespace(redis_url) as up, running_worker(up, pool="solo"):
        up.send_task("integrations.webhook_events_sweep")
        order = wait_until(Order.objects.first, "the delivery was never processed")
        wait_until(lambda: credited(order) == {"Newsletter": 4410}, "the order was never credited")
        wait_until(lambda: not Notification.objects.exists(), "the notifications were not cleared")
    event.refresh_from_db()
    assert (event.status, event.attempts, Order.objects.count()) == ("processed", 1, 1)


@pytest.mark.django_db
def test_with_redis_down_a_pixel_hit_is_refused_with_503_and_counted_once_redis_is_back(client, redis_url):
    prefix = f"test-pixel-{uuid.uuid4().hex}"
    workspace = ProcessorConnectionFactory().workspace
    landing = hit(workspace, u="https://shop.example.com/?utm_source=newsletter&utm_medium=email")

    with override_settings(CACHES=redis_cache(NOWHERE, prefix)):
        response = post(client, landing)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert not Touch.objects.exists()

    with override_settings(CACHES=redis_cache(redis_url, prefix)):
        try:
            assert post(client, landing).status_code == 204  # the same hit, sent again
            assert touches_flush() == 1
        finally:
            redis = caches["default"]._cache.get_client(write=True)
            if keys := list(redis.scan_iter(f"{prefix}:*")):
                redis.delete(*keys)
    assert Touch.objects.get().channel == "Newsletter"
