"""Hands committed inbox rows to the worker without putting a broker publish on the acknowledgement path.

A Celery publish costs more CPU than the rest of a webhook acknowledgement together, so each web
process collects the ids of rows it just committed and a background thread publishes them in one
`integrations.webhook_events_process` message per WEBHOOK_DISPATCH_BATCH_SECONDS. Rows are durable
before the 202: ids lost with a crashing process are re-enqueued by the sweeper.
With WEBHOOK_DISPATCH_BATCH_SECONDS = 0 every id is published at once, in the caller's thread.
"""

import logging
import os
import threading
import time

from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

PROCESS_ONE = "integrations.webhook_event_process"
PROCESS_MANY = "integrations.webhook_events_process"


class _Batcher:
    def __init__(self):
        self._ids: list[int] = []
        self._ready = threading.Condition()
        self._pid: int | None = None

    def submit(self, event_id: int, delay: float) -> None:
        with self._ready:
            if self._pid != os.getpid():  # first use in this process (or after a fork): start the thread
                self._pid = os.getpid()
                self._ids = []
                threading.Thread(target=self._run, args=(delay,), name="webhook-dispatch", daemon=True).start()
            self._ids.append(event_id)
            self._ready.notify()

    def _run(self, delay: float) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._ids)
            time.sleep(delay)  # let a burst gather into one message
            with self._ready:
                batch, self._ids = self._ids, []
            try:
                current_app.send_task(PROCESS_MANY, args=[batch])
            except Exception:  # the rows stay received; the sweeper enqueues them again
                logger.exception("could not publish %d webhook events", len(batch))


_batcher = _Batcher()


def webhook_event_dispatch(event_id: int) -> None:
    delay = settings.WEBHOOK_DISPATCH_BATCH_SECONDS
    if delay <= 0:
        current_app.send_task(PROCESS_ONE, args=[event_id])
    else:
        _batcher.submit(event_id, delay)
