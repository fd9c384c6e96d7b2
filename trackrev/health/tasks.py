from celery import shared_task

from trackrev.health.services import HEARTBEAT, heartbeat_record


@shared_task(name=HEARTBEAT, ignore_result=True)
def heartbeat() -> None:
    heartbeat_record()
