"""Polar's pure mapping (integrations/processors/polar/mapping.py) at its edges: what it refuses as
unreadable, what it ignores, and what it reads from sparse payloads (the gaps a mutation run found)."""

import datetime as dt

import pytest

from integrations.processors.errors import PayloadInvalid
from integrations.processors.polar.mapping import event_from, order_from, refund_from, subscription_from
from integrations.processors.types import Ignored, OrderChange, SubscriptionChange
from tests.integrations.polar import event, payload

EVENT_AT = dt.datetime(2026, 9, 3, 14, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize("field", ["created_at", "modified_at"])
def test_a_malformed_datetime_is_unreadable(field):
    data = payload("order_created_purchase")["data"]
    data[field] = "3 September 2026"
    with pytest.raises(PayloadInvalid, match="ISO 8601"):
        order_from(data)


def test_an_object_with_no_timestamp_anywhere_is_unreadable():
    data = payload("order_created_purchase")["data"]
    data["modified_at"] = data["created_at"] = None
    data["customer"] = None
    with pytest.raises(PayloadInvalid, match="no modified_at, created_at or event timestamp"):
        order_from(data)


def test_the_envelope_timestamp_stands_in_for_missing_object_timestamps():
    data = payload("subscription_updated_revoked")["data"]
    data["modified_at"] = data["created_at"] = None
    change = subscription_from(data, EVENT_AT)
    assert isinstance(change, SubscriptionChange)
    assert change.subscription.source_updated_at == EVENT_AT


@pytest.mark.parametrize(
    "mapper, name",
    [(subscription_from, "subscription_updated_revoked"), (refund_from, "refund_created")],
)
def test_unknown_statuses_are_ignored_not_guessed(mapper, name):
    data = payload(name)["data"]
    data["status"] = "frozen"
    change = mapper(data)
    assert isinstance(change, Ignored) and "frozen" in change.reason


def test_an_order_without_a_customer_maps_with_none():
    data = payload("order_created_purchase")["data"]
    data["customer"] = None
    change = order_from(data)
    assert isinstance(change, OrderChange) and change.order.customer is None


@pytest.mark.parametrize("body", [[], "order", {"type": "order.paid"}, {"type": "order.paid", "data": []}])
def test_what_is_no_envelope_is_unreadable(body):
    with pytest.raises(PayloadInvalid, match="envelope"):
        event_from(body)


def test_an_event_type_we_do_not_use_is_ignored():
    parsed = event_from(event("order_created_purchase", "checkout.created"))
    (change,) = parsed.changes
    assert isinstance(change, Ignored) and "checkout.created" in change.reason


def test_an_order_exposes_its_discounts_code_and_id_lower_case():
    change = order_from(payload("order_created_purchase")["data"])  # the customer typed SPRING10
    assert change.order.discount_codes == ("spring10", "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70")


def test_a_discount_without_a_code_exposes_its_id_and_an_order_without_one_nothing():
    data = payload("order_created_purchase")["data"]
    data["discount"]["code"] = None
    assert order_from(data).order.discount_codes == ("d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",)
    assert order_from(payload("order_created_renewal_pending")["data"]).order.discount_codes == ()
