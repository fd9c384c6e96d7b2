"""A change to a subscription costs work linear in its renewals: the ledger matches its orders again and
attribution credits each of them again, and none of those steps reads all the renewals once per order
(measured as the order rows PostgreSQL reads, and the queries)."""

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from attribution.services.conversions import conversion_record
from integrations.models import MatchedBy, Order
from integrations.processors.polar import mapping
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import iso, payload
from trackrev.outbox.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SUBSCRIPTION = "3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f"  # the reference payloads' subscription


def apply(connection, body: dict) -> None:
    body["data"]["customer"]["metadata"] = {}  # renewals follow the subscription, not the customer
    (change,) = mapping.event_from(body).changes
    change_apply(connection=connection, change=change)


def consumers_run() -> int:
    """Run attribution for every order the ledger told it about; how many there were."""
    told = Notification.objects.filter(task="attribution.conversion_record")
    order_ids = list(told.values_list("subject_id", flat=True))
    Notification.objects.all().delete()  # what attribution tells the layers above is not counted here
    for order_id in order_ids:
        conversion_record(order_id=order_id)
    return len(order_ids)


def order_rows_read() -> int:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(idx_tup_fetch, 0) + seq_tup_read FROM pg_stat_xact_user_tables"
            " WHERE relname = 'integrations_order'"
        )
        return cursor.fetchone()[0]


def cost_of_a_subscription_change(renewals: int) -> tuple[int, int]:
    """(order rows read, queries) to apply a subscription's new visitor and credit its orders again."""
    connection = ProcessorConnectionFactory()
    first = {"id": "first", "billing_reason": "subscription_create", "subscription_id": SUBSCRIPTION}
    apply(connection, payload("order_created_purchase", **first, metadata={}))
    for i in range(renewals):
        placed = dt.datetime(2026, 10, 3, tzinfo=dt.UTC) + dt.timedelta(days=i)
        apply(
            connection,
            payload("order_created_renewal_pending", id=f"renewal_{i}", status="paid", created_at=iso(placed)),
        )
    apply(connection, payload("subscription_updated_revoked", metadata={"trackrev_visitor_id": "v_signup"}))
    consumers_run()

    before = order_rows_read()
    with CaptureQueriesContext(db_connection) as queries:
        apply(
            connection,
            payload(
                "subscription_updated_revoked",
                modified_at="2026-11-04T09:00:00.000000Z",
                metadata={"trackrev_visitor_id": "v_changed"},
            ),
        )
        assert consumers_run() == renewals + 1
    rows = order_rows_read() - before
    matches = set(Order.objects.filter(connection=connection).values_list("visitor_id", "matched_by"))
    assert matches == {("v_changed", MatchedBy.SUBSCRIPTION)}
    return rows, len(queries)


def test_a_subscription_change_costs_work_linear_in_its_renewals():
    rows, queries = cost_of_a_subscription_change(25)
    rows_doubled, queries_doubled = cost_of_a_subscription_change(50)
    # Work linear in the renewals about doubles when they double; work in their square quadruples.
    assert rows_doubled <= 2.2 * rows, (rows, rows_doubled)
    assert queries_doubled <= 2.2 * queries, (queries, queries_doubled)
