"""Upward notification: every task named in settings.ORDER_CONSUMERS hears of a ledger change to an
order through the outbox, in the transaction that made the change."""

from collections.abc import Iterable

from django.conf import settings

from trackrev.outbox.services import notifications_enqueue


def order_consumers_notify(*, order_id: int) -> None:
    orders_consumers_notify(order_ids=[order_id])


def orders_consumers_notify(*, order_ids: Iterable[int]) -> None:
    notifications_enqueue(tasks=settings.ORDER_CONSUMERS, subject_ids=order_ids)
