"""What /healthz reports: each dependency's state, checked live."""

from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from trackrev.celery import app as celery_app
from trackrev.health.models import Heartbeat
from trackrev.health.schedules import HEARTBEAT_MAX_AGE
from trackrev.health.services import HEARTBEAT


@dataclass(frozen=True)
class Health:
    database: bool
    broker: bool
    heartbeat_age_seconds: float | None

    @property
    def healthy(self) -> bool:
        age_ok = (
            self.heartbeat_age_seconds is not None and self.heartbeat_age_seconds <= HEARTBEAT_MAX_AGE.total_seconds()
        )
        return self.database and self.broker and age_ok


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except (BrokerError, OSError):
        return False


def _heartbeat_age(database_ok: bool) -> float | None:
    if not database_ok:
        return None
    last = Heartbeat.objects.filter(name=HEARTBEAT).values_list("last_run_at", flat=True).first()
    return None if last is None else round((timezone.now() - last).total_seconds(), 1)


def health_get() -> Health:
    database = _database_ok()
    return Health(database=database, broker=_broker_ok(), heartbeat_age_seconds=_heartbeat_age(database))
