"""Hands committed inbox rows to the worker without putting a broker publish on the acknowledgement path.

A Celery publish costs more CPU than the rest of a webhook acknowledgement together, so each web
process collects the ids of rows it just committed and a background thread publishes them in one
`integrations.webhook_events_process` message per WEBHOOK_DISPATCH_BATCH_SECONDS. Rows are durable
before the 202: ids lost with a crashing process (or a broker that refused them) are enqueued again by
the inbox sweeper, which publishes what it found directly (it already holds a batch).
"""

import atexit

from celery import current_app
from django.conf import settings

from trackrev.common.batching import ProcessBatcher

PROCESS_MANY = "integrations.webhook_events_process"
CHUNK = 100


def webhook_events_publish(event_ids: list[int]) -> None:
    for start in range(0, len(event_ids), CHUNK):
        current_app.send_task(PROCESS_MANY, args=[event_ids[start : start + CHUNK]])


_batcher = ProcessBatcher(webhook_events_publish, name="webhook-dispatch")
# A web process stopping normally (a deploy) hands over what it holds instead of leaving it to the sweeper.
atexit.register(lambda: _batcher.drain(timeout=2.0))


def webhook_event_dispatch(event_id: int) -> None:
    _batcher.submit(event_id, linger=settings.WEBHOOK_DISPATCH_BATCH_SECONDS)
