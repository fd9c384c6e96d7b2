from celery import shared_task

from trackrev.outbox.services import DELIVER_TASK, notification_deliver, notifications_redelivered, notifications_sweep


@shared_task(name=DELIVER_TASK, acks_late=True, bind=True)
def outbox_deliver(self, notification_ids: list[int]) -> None:
    if self.request.delivery_info and self.request.delivery_info.get("redelivered"):
        notifications_redelivered(notification_ids)  # its worker died delivering it
        return
    for notification_id in notification_ids:
        notification_deliver(notification_id=notification_id)


@shared_task(name="trackrev.outbox_sweep")
def outbox_sweep() -> int:
    return notifications_sweep()
