"""Upward notification: every task named in settings.ORDER_CONSUMERS gets the order id on commit."""

from celery import current_app
from django.conf import settings
from django.db import transaction


def order_consumers_notify(*, order_id: int) -> None:
    for name in settings.ORDER_CONSUMERS:
        transaction.on_commit(lambda name=name: current_app.send_task(name, args=[order_id]))
