"""A frozen "today", a one-line paid, credited sale and its refund, shared by the report and dashboard
tests."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attribution.services.conversions import conversion_record
from integrations.processors.types import NormalizedRefund
from integrations.services.ledger import refund_upsert
from tests.factories.engine import OrderFactory

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(NOW, tick=False):
        yield


def sale(workspace, *, visitor="", processor="polar", amount=4900, days_ago=0, **extra):
    order = OrderFactory(
        workspace=workspace,
        visitor_id=visitor,
        processor=processor,
        amount_minor=amount,
        placed_at=NOW - timedelta(days=days_ago, hours=1),
        **extra,
    )
    conversion_record(order_id=order.pk)
    return order


def refund(order, amount: int):
    """A succeeded refund of `amount` (minor units) through the ledger, credited as its consumers would."""
    refund_upsert(
        connection=order.connection,
        refund=NormalizedRefund(
            external_id=f"re_{order.external_id}_{amount}",
            order_external_id=order.external_id,
            status="succeeded",
            amount_minor=amount,
            currency=order.currency,
            refunded_at=NOW,
            source_updated_at=NOW,
        ),
    )
    conversion_record(order_id=order.pk)
    order.refresh_from_db()
    return order
