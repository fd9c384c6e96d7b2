"""The embedded broker of `make run`: kombu's SQLAlchemy transport on one SQLite file under var/.

A message is one row, committed in one transaction, so no reader ever sees half of one (kombu's
filesystem transport, used before, let a worker read a file whose writer had not written it yet, and
the worker died on it). Added to kombu's transport:

- a row is deleted when a worker takes it: kombu keeps every taken row, invisible, forever (a message
  taken but not acknowledged is put back as a new row, never revived from the old one);
- a row that does not decode into a message is set aside (left invisible: the invisible rows are
  exactly the bad ones) and logged, and the next one is taken, where kombu would raise and stop the
  worker;
- processes wait for each other's locks, and processes that start together do not fail racing to
  create the tables or a queue.
"""

import logging
import os
from json import loads
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, insert, text, true

logger = logging.getLogger(__name__)

# Every web process, the worker, its pool and beat share the file; a transaction lasts milliseconds.
BUSY_TIMEOUT_SECONDS = 20


def _on_connect(dbapi_connection, connection_record) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


class Channel(kombu_sqlalchemy.Channel):
    def _engine_from_config(self):
        # The URL alone, not kombu's way of passing every transport option on to create_engine: ours
        # carry polling_interval, which is no engine option.
        engine = create_engine(self.connection.client.hostname, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _on_connect)
        os.makedirs(os.path.dirname(engine.url.database), exist_ok=True)
        # Under the write lock, so that a second process waits and then finds the tables (kombu creates
        # them again after this, which is then a no-op).
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            kombu_sqlalchemy.metadata.create_all(connection)
            connection.commit()
        return engine

    def _get_or_create(self, queue):
        # Two processes declaring a queue at once: the second insert is ignored, where kombu's fails on
        # the unique name and leaves the session unusable.
        found = self._queue(queue)
        if found is None:
            self.session.execute(insert(self.queue_cls).values(name=queue).prefix_with("OR IGNORE"))
            self.session.commit()
            found = self._queue(queue)
        return found

    def _queue(self, queue):
        return self.session.query(self.queue_cls).filter_by(name=queue).first()

    def _get(self, queue):
        queue_id = self._get_or_create(queue).id
        # The write lock before the read: one process at a time takes the oldest row.
        self.session.execute(text("BEGIN IMMEDIATE"))
        try:
            payload = self._take(queue, queue_id)
        except BaseException:
            self.session.rollback()
            raise
        self.session.commit()
        if payload is None:
            raise Empty()
        return payload

    def _take(self, queue, queue_id):
        pending = (
            self.session.query(self.message_cls)
            .filter(self.message_cls.queue_id == queue_id, self.message_cls.visible == true())
            .order_by(self.message_cls.id)
        )
        while (row := pending.first()) is not None:
            raw = row.payload
            try:
                payload = loads(bytes_to_str(raw))
                self.Message(payload, channel=self)  # what the consumer makes of it
            except Exception as error:  # whatever keeps kombu from making a message of it
                logger.error(
                    "Embedded queue %r: message row %s does not decode (%s: %.200r); set aside (visible = 0)",
                    queue,
                    row.id,
                    type(error).__name__,
                    raw,
                )
                row.visible = False
                continue
            self.session.delete(row)
            return payload
        return None


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel


def _forget_inherited_engines() -> None:
    # An SQLite connection must not be used on both sides of a fork (a pool child, beat): the child
    # drops the parent's pooled connections, unclosed, and opens its own.
    for engine, _ in kombu_sqlalchemy.Channel._engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_engines)
