from celery import shared_task
from celery.signals import worker_ready
from django.db import connections

from trackrev.health.services import HEARTBEAT, heartbeat_record


@shared_task(name=HEARTBEAT, ignore_result=True)
def heartbeat() -> None:
    heartbeat_record()


@worker_ready.connect
def _heartbeat_once_consuming(**kwargs) -> None:
    """A worker that consumes is healthy now: /healthz need not wait for beat's first heartbeat, one
    interval after it starts, nor for one queued behind a backlog. (Sent by `celery worker` processes only,
    not by the workers tests start in a thread.)"""
    heartbeat_record()
    connections.close_all()  # a prefork worker's main process runs no task: keep no connection open
