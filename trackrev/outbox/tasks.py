from celery import shared_task

from trackrev.outbox.services import DELIVER_TASK, notification_deliver, notifications_sweep


@shared_task(name=DELIVER_TASK, acks_late=True)
def outbox_deliver(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        notification_deliver(notification_id=notification_id)


@shared_task(name="trackrev.outbox_sweep")
def outbox_sweep() -> int:
    return notifications_sweep()
