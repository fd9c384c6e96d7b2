"""Affiliate jobs: thin wrappers taking ids; every service they call derives from the current state."""

from celery import shared_task

from affiliates.services.commissions import commissions_mature as commissions_mature_service
from affiliates.services.commissions import order_commissions_sync
from affiliates.services.payout_sending import payout_batch_send as payout_batch_send_service
from affiliates.services.payout_sending import payout_batches_follow as payout_batches_follow_service
from affiliates.services.payouts import payouts_monthly as payouts_monthly_service


@shared_task(name="affiliates.order_attribution_changed", acks_late=True)
def order_attribution_changed(order_id: int) -> None:
    """ATTRIBUTION_CONSUMERS: the order's match or credits changed; its buyer's commissions follow."""
    order_commissions_sync(order_id=order_id)


@shared_task(name="affiliates.commissions_mature", acks_late=True)
def commissions_mature() -> int:
    return commissions_mature_service()


@shared_task(name="affiliates.payout_batch_send", acks_late=True)
def payout_batch_send(batch_id: int) -> None:
    payout_batch_send_service(batch_id=batch_id)


@shared_task(name="affiliates.payouts_monthly", acks_late=True)
def payouts_monthly() -> int:
    return payouts_monthly_service()


@shared_task(name="affiliates.payout_batches_follow", acks_late=True)
def payout_batches_follow() -> int:
    return payout_batches_follow_service()
