"""One daemon thread per process that takes what many request threads hand it, in batches.

Used where a per-request cost (a broker publish, a durable commit) can be paid once for every request
that arrived while the previous batch was being handled. The thread starts on first use in each
process, so it survives gunicorn's fork (threads do not cross a fork; the pid check notices).
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")


class ProcessBatcher(Generic[Item]):
    def __init__(self, handle: Callable[[list[Item]], None], *, name: str):
        self._handle = handle
        self._name = name
        self._items: list[Item] = []
        self._busy = False  # a batch is being handled
        self._ready = threading.Condition()
        self._pid: int | None = None

    def submit(self, item: Item, *, linger: float = 0.0) -> None:
        """Queue `item`. Each batch waits `linger` seconds after its first item for a burst to gather (the
        value given by the submit that started this process's thread)."""
        with self._ready:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._items = []
                threading.Thread(target=self._run, args=(linger,), name=self._name, daemon=True).start()
            self._items.append(item)
            self._ready.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until everything submitted so far in this process has been handled; False on timeout."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._items and not self._busy, timeout)

    def _run(self, linger: float) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._items)
            if linger > 0:
                time.sleep(linger)
            with self._ready:
                batch, self._items, self._busy = self._items, [], True
            try:
                self._handle(batch)
            except Exception:  # the handler reports per item; this only keeps the thread alive
                logger.exception("%s: batch of %d failed", self._name, len(batch))
            finally:
                with self._ready:
                    self._busy = False
                    self._ready.notify_all()
