"""A frozen "today" and a one-line paid, credited sale, shared by the report and dashboard tests."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from attribution.services.conversions import conversion_record
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
