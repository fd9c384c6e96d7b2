"""Hands committed inbox rows to the worker without putting a broker publish on the acknowledgement path.

A Celery publish costs more CPU than the rest of a webhook acknowledgement together, so each web
process collects the ids of rows it just committed and a background thread publishes them in one
`integrations.webhook_events_process` message per WEBHOOK_DISPATCH_BATCH_SECONDS. Rows are durable
before the 202: ids lost with a crashing process are re-enqueued by the sweeper.
With WEBHOOK_DISPATCH_BATCH_SECONDS = 0 every id is published at once, in the caller's thread.
"""

from celery import current_app
from django.conf import settings

from trackrev.common.batching import ProcessBatcher

PROCESS_ONE = "integrations.webhook_event_process"
PROCESS_MANY = "integrations.webhook_events_process"


def _publish(batch: list[int]) -> None:
    # A failed publish leaves the rows received; the sweeper enqueues them again.
    current_app.send_task(PROCESS_MANY, args=[batch])


_batcher = ProcessBatcher(_publish, name="webhook-dispatch")


def webhook_event_dispatch(event_id: int) -> None:
    delay = settings.WEBHOOK_DISPATCH_BATCH_SECONDS
    if delay <= 0:
        current_app.send_task(PROCESS_ONE, args=[event_id])
    else:
        _batcher.submit(event_id, linger=delay)
