import datetime as dt
import importlib

import pytest
from django.apps import apps

from integrations.models import Customer, FirstSeenVia, MatchedBy, Order, OrderKind, Subscription
from integrations.processors.parsing import iso_datetime
from integrations.processors.polar import mapping
from integrations.processors.types import CustomerChange, NormalizedCustomer
from integrations.services.ledger import change_apply, order_match_visitor
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import event, iso, payload
from trackrev.common.emails import email_digest
from trackrev.outbox.models import Notification

pytestmark = pytest.mark.django_db

CONSUMER = "tests.order_consumer"


@pytest.fixture
def connection():
    return ProcessorConnectionFactory()


@pytest.fixture(autouse=True)
def _consumers(settings):
    settings.ORDER_CONSUMERS = [CONSUMER]


@pytest.fixture
def notified(broker, committed):
    """Apply deliveries, then commit: the order ids the consumers were told about, in order (one entry
    per notification handed to the broker)."""

    def deliver(connection, *bodies):
        broker.sent.clear()
        Notification.objects.all().delete()
        with committed():
            for body in bodies:
                apply(connection, body)
        subjects = dict(Notification.objects.filter(task=CONSUMER).values_list("pk", "subject_id"))
        return [subjects[pk] for _, (ids,) in broker.sent for pk in ids if pk in subjects]

    return deliver


def apply(connection, body, via=FirstSeenVia.WEBHOOK):
    (change,) = mapping.event_from(body).changes
    return change_apply(connection=connection, change=change, via=via)


def test_checkout_trio_is_one_order_counted_once(connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        for event_type in ("order.created", "order.updated", "order.paid"):
            apply(connection, event("order_created_purchase", event_type))

    order = Order.objects.get()
    assert (order.kind, order.status, order.currency, order.amount_minor) == (OrderKind.ONE_TIME, "paid", "USD", 4410)
    assert order.paid_at == dt.datetime(2026, 9, 3, 14, 22, 5, 118402, tzinfo=dt.UTC)
    assert order.tax_minor == 882
    assert order.first_seen_via == FirstSeenVia.WEBHOOK
    # Consumers hear about it once (the other callback counts it once in the plan's usage).
    assert [c.__qualname__.split(".")[0] for c in callbacks] == ["usage_order_record", "notifications_enqueue"]


def test_renewal_pending_then_paid_counts_once_on_payment(connection, django_capture_on_commit_callbacks):
    apply(connection, payload("order_created_renewal_pending"))
    pending = Order.objects.get()
    assert (pending.kind, pending.status, pending.is_paid, pending.paid_at) == (
        OrderKind.RENEWAL,
        "pending",
        False,
        None,
    )

    paid_at = "2026-10-03T14:27:40.100000Z"
    paid = {"status": "paid", "paid": True, "modified_at": paid_at}
    with django_capture_on_commit_callbacks() as callbacks:
        apply(connection, event("order_created_renewal_pending", "order.updated", **paid))
        apply(connection, event("order_created_renewal_pending", "order.paid", **paid))
        apply(connection, payload("order_created_renewal_pending"))  # a stale retry of order.created

    order = Order.objects.get()
    assert order.status == "paid"
    assert order.is_paid
    assert iso(order.paid_at) == paid_at
    assert len(callbacks) == 1


def test_stale_snapshot_never_overwrites_newer_state(connection):
    refunded = {"status": "refunded", "refunded_amount": 4410, "modified_at": "2026-09-10T10:02:45.000000Z"}
    apply(connection, event("order_created_purchase", "order.refunded", **refunded))
    apply(connection, payload("order_created_purchase"))  # delivered 30 min late, old snapshot

    order = Order.objects.get()
    assert (order.status, order.refunded_minor) == ("refunded", 4410)
    assert iso(order.paid_at) == "2026-09-10T10:02:45.000000Z"  # first seen paid is the refunded state


def test_refund_event_before_and_after_its_order(connection):
    apply(connection, payload("refund_created"))
    apply(connection, payload("order_created_purchase"))

    order = Order.objects.get()
    assert order.refunded_minor == 4410
    assert order.refunds.get().amount_minor == 4410


def test_match_by_order_metadata(connection):
    body = payload("order_created_purchase", metadata={"trackrev_visitor_id": "v_checkout_meta"})
    body["data"]["customer"]["metadata"] = {}
    apply(connection, body)

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("v_checkout_meta", MatchedBy.METADATA)
    assert order.visitor_ref == "v_checkout_meta"


def test_match_by_customer_metadata(connection):
    # Reference §7.1: utm keys in order metadata, the visitor id in customer_metadata only.
    apply(connection, payload("order_created_purchase"))

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("v_01J8Z3K2M4", MatchedBy.METADATA)
    assert order.visitor_ref == ""
    assert order.customer.visitor_id == "v_01J8Z3K2M4"
    assert order.customer_email_digest == email_digest("jana@example.com")


def test_renewal_matched_through_the_subscriptions_first_order(connection):
    first = payload(
        "order_created_purchase",
        id="11111111-0000-4000-8000-000000000001",
        billing_reason="subscription_create",
        subscription_id="3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f",
        metadata={"trackrev_visitor_id": "v_first_visit"},
    )
    first["data"]["customer"]["metadata"] = {}
    apply(connection, first)
    renewal = payload("order_created_renewal_pending", status="paid", metadata={"reference_id": "trk_77ab01"})
    renewal["data"]["customer"]["metadata"] = {}
    apply(connection, renewal)

    order = Order.objects.get(external_id=renewal["data"]["id"])
    assert (order.kind, order.visitor_id, order.matched_by) == (
        OrderKind.RENEWAL,
        "v_first_visit",
        MatchedBy.SUBSCRIPTION,
    )


def test_email_fallback_recorded_by_attribution_and_kept(connection):
    body = payload("order_created_purchase")
    body["data"]["customer"]["metadata"] = {}
    apply(connection, body)
    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("", MatchedBy.NONE)
    assert order.customer_email_digest == email_digest("Jana@Example.com ")

    order_match_visitor(order=order, visitor_id="v_identified", matched_by=MatchedBy.EMAIL)
    later = payload("order_created_purchase", status="refunded", modified_at="2026-09-10T10:02:45.000000Z")
    later["data"]["customer"]["metadata"] = {}
    apply(connection, later)

    order.refresh_from_db()
    assert (order.visitor_id, order.matched_by, order.status) == ("v_identified", MatchedBy.EMAIL, "refunded")


def test_email_match_never_overrides_metadata(connection):
    apply(connection, payload("order_created_purchase"))
    order = order_match_visitor(order=Order.objects.get(), visitor_id="v_other", matched_by=MatchedBy.EMAIL)
    assert (order.visitor_id, order.matched_by) == ("v_01J8Z3K2M4", MatchedBy.METADATA)


def test_unknown_enum_values_are_ignored(connection):
    assert apply(connection, payload("order_created_purchase", status="on_hold")).obj is None
    assert apply(connection, payload("order_created_purchase", billing_reason="gift_card")).obj is None
    assert not Order.objects.exists()


SUBSCRIPTION = "3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f"
FIRST_ORDER = "11111111-0000-4000-8000-000000000001"


def anonymous(body: dict) -> dict:
    """The delivery without the customer's visitor id (customer_metadata was not set at checkout)."""
    body["data"]["customer"]["metadata"] = {}
    return body


def renewal(**data) -> dict:
    # Polar copies the subscription's metadata into renewals: here it never had our visitor id.
    data.setdefault("metadata", {"reference_id": "r"})
    return anonymous(payload("order_created_renewal_pending", status="paid", **data))


def first_order(visitor: str = "v_first_visit", **data) -> dict:
    fields = {"id": FIRST_ORDER, "billing_reason": "subscription_create", "subscription_id": SUBSCRIPTION}
    return anonymous(payload("order_created_purchase", **fields, metadata={"trackrev_visitor_id": visitor}, **data))


def subscription(visitor: str = "", **data) -> dict:
    metadata = {"reference_id": "r", **({"trackrev_visitor_id": visitor} if visitor else {})}
    return anonymous(payload("subscription_updated_revoked", metadata=metadata, **data))


def match(external_id: str) -> tuple[str, str]:
    order = Order.objects.get(external_id=external_id)
    return order.visitor_id, order.matched_by


def test_renewal_before_its_subscription_matches_when_the_subscription_lands(connection, notified):
    apply(connection, renewal())
    assert match(renewal()["data"]["id"]) == ("", MatchedBy.NONE)

    sent = notified(connection, subscription(visitor="v_signup"))

    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == ("v_signup", MatchedBy.SUBSCRIPTION)  # the subscription's own
    assert order.subscription == Subscription.objects.get()  # linked when the subscription lands
    assert sent == [order.pk]


def test_renewal_before_its_first_order_matches_once_the_first_order_lands(connection, notified):
    apply(connection, renewal())
    own = renewal(id="22222222-0000-4000-8000-000000000002", metadata={"trackrev_visitor_id": "v_own"})
    apply(connection, own)
    apply(connection, subscription(visitor="v_signup"))
    assert match(renewal()["data"]["id"]) == ("v_own", MatchedBy.SUBSCRIPTION)  # an order's visitor before the row's

    sent = notified(connection, first_order())

    assert match(renewal()["data"]["id"]) == ("v_first_visit", MatchedBy.SUBSCRIPTION)  # the earliest order's
    assert match(own["data"]["id"]) == ("v_own", MatchedBy.METADATA)
    ids = dict(Order.objects.values_list("external_id", "pk"))
    assert sent == [ids[FIRST_ORDER], ids[renewal()["data"]["id"]]]  # not the renewal with its own visitor


def test_a_renewal_follows_the_first_order_not_another_renewals_match(connection):
    apply(connection, first_order(visitor=""))
    apply(connection, subscription(visitor="v_signup"))
    later = renewal(id="22222222-0000-4000-8000-000000000002", created_at="2026-11-03T14:25:10.884120Z")
    apply(connection, later)
    apply(connection, renewal())
    assert {match(FIRST_ORDER), match(renewal()["data"]["id"])} == {("v_signup", MatchedBy.SUBSCRIPTION)}

    apply(connection, subscription(visitor="v_changed", modified_at="2026-11-04T09:00:00.000000Z"))

    # Matches made through the subscription never feed one another: all follow its new visitor.
    assert {match(o) for o in (FIRST_ORDER, later["data"]["id"], renewal()["data"]["id"])} == {
        ("v_changed", MatchedBy.SUBSCRIPTION)
    }


def test_a_customer_redelivered_with_a_new_visitor_matches_their_orders(connection, notified):
    apply(connection, anonymous(payload("order_created_purchase")))
    own = anonymous(payload("order_created_purchase", id="33333333-0000-4000-8000-000000000003"))
    own["data"]["metadata"] = {"trackrev_visitor_id": "v_own"}
    apply(connection, own)
    again = payload("order_created_purchase", id="44444444-0000-4000-8000-000000000004", metadata={})
    again["data"]["customer"].update(
        email="jana@new.example", metadata={"trackrev_visitor_id": "v_later"}, modified_at="2026-09-05T10:00:00Z"
    )

    sent = notified(connection, again)

    customer = Customer.objects.get()
    assert (customer.visitor_id, customer.email_digest) == ("v_later", email_digest("jana@new.example"))
    ids = dict(Order.objects.values_list("external_id", "pk"))
    assert match("0b6f3c2e-7a41-4d8e-9f1b-2c5a8e9d4f10") == ("v_later", MatchedBy.METADATA)
    assert match(own["data"]["id"]) == ("v_own", MatchedBy.METADATA)
    # The customer's new email reaches every order of theirs (attribution's email fallback reads it).
    assert sorted(sent) == sorted(ids.values())

    stale = payload("order_created_purchase", id="55555555-0000-4000-8000-000000000005", metadata={})
    stale["data"]["customer"].update(metadata={"trackrev_visitor_id": "v_stale"}, modified_at="2026-09-04T10:00:00Z")
    assert notified(connection, stale) == [Order.objects.get(external_id=stale["data"]["id"]).pk]
    assert Customer.objects.get().visitor_id == "v_later"  # an older snapshot of the customer changes nothing


def customer_event(*, email: str = "", visitor: str = "", at: str = "2026-09-05T10:00:00Z") -> CustomerChange:
    """A processor's own customer event (its orders may lack the email or the visitor id)."""
    customer = payload("order_created_purchase")["data"]["customer"]
    return CustomerChange(
        NormalizedCustomer(
            external_id=customer["id"], email=email, visitor_ref=visitor, source_updated_at=iso_datetime(at)
        )
    )


def test_a_customer_event_brings_the_email_and_visitor_their_orders_lack(connection, notified, committed):
    no_email = anonymous(payload("order_created_purchase"))
    no_email["data"]["customer"]["email"] = ""
    apply(connection, no_email)
    order = Order.objects.get()
    assert (order.customer_email_digest, order.matched_by) == ("", MatchedBy.NONE)

    with committed():
        change_apply(connection=connection, change=customer_event(email="jana@example.com"))
    assert Order.objects.get().customer_email_digest == email_digest("jana@example.com")

    assert notified(connection) == []  # nothing more to tell
    with committed():
        # An older event of the customer only fills what the row lacks: the visitor id, not the email.
        change_apply(
            connection=connection,
            change=customer_event(email="old@example.com", visitor="v_known", at="2026-08-01T00:00:00Z"),
        )
    assert match(order.external_id) == ("v_known", MatchedBy.METADATA)
    assert Customer.objects.get().email_digest == email_digest("jana@example.com")

    apply(connection, no_email)  # an order's embedded customer without an email clears nothing
    assert Order.objects.get().customer_email_digest == email_digest("jana@example.com")


def test_a_customer_redelivered_with_a_newer_email_moves_its_orders_digest_and_domain(connection, committed):
    """The domain alone (never the address) follows the email: the affiliate engine's self-referral check
    and the partner portal's `•••@domain` read it."""
    apply(connection, anonymous(payload("order_created_purchase")))
    assert (Order.objects.get().customer_email_domain, Customer.objects.get().email_domain) == ("example.com",) * 2
    with committed():
        change_apply(
            connection=connection, change=customer_event(email="Jana@Work.Example.org", at="2026-09-05T00:00:00Z")
        )
    order, customer = Order.objects.get(), Customer.objects.get()
    assert (customer.email_digest, customer.email_domain) == (email_digest("jana@work.example.org"), "work.example.org")
    assert (order.customer_email_digest, order.customer_email_domain) == (customer.email_digest, "work.example.org")


def test_an_orders_visitor_id_is_never_cleared_and_an_older_state_still_brings_it(connection, notified):
    """Processors report one payment in several objects (a checkout and its invoice), in any order."""
    named = payload("order_created_purchase", metadata={"trackrev_visitor_id": "v_checkout"})
    newer = anonymous(payload("order_created_purchase", metadata={}, modified_at="2026-09-04T10:00:00Z"))

    apply(connection, named)
    apply(connection, newer)
    assert match(named["data"]["id"]) == ("v_checkout", MatchedBy.METADATA)

    Order.objects.update(visitor_ref="", visitor_id="", matched_by=MatchedBy.NONE)  # the invoice came first
    assert notified(connection, named) == [Order.objects.get().pk]
    assert match(named["data"]["id"]) == ("v_checkout", MatchedBy.METADATA)
    assert Order.objects.get().source_updated_at == dt.datetime(2026, 9, 4, 10, tzinfo=dt.UTC)  # still the newer


SPRING10 = ["spring10", "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"]  # order_created_purchase's discount
SUMMER = {"id": "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6e", "code": "SUMMER5"}


def discounted(discount: dict | None, **fields) -> dict:
    return payload("order_created_purchase", discount=discount, discount_id=(discount or {}).get("id"), **fields)


def codes() -> list[str]:
    return Order.objects.get().discount_codes


def test_an_orders_discount_codes_are_never_cleared_and_an_older_state_still_brings_them(connection, notified):
    """Processors name an order's discount in some of its events only, delivered in any order."""
    coded = payload("order_created_purchase")
    newer = discounted(None, modified_at="2026-09-04T10:00:00Z")

    apply(connection, coded)
    assert codes() == SPRING10
    apply(connection, newer)
    assert codes() == SPRING10

    Order.objects.update(discount_codes=[])  # the state without them came first
    assert notified(connection, coded) == [Order.objects.get().pk]
    assert codes() == SPRING10
    assert Order.objects.get().source_updated_at == dt.datetime(2026, 9, 4, 10, tzinfo=dt.UTC)  # still the newer
    apply(connection, discounted(SUMMER))  # an older state never replaces them
    assert codes() == SPRING10


def test_a_newer_state_sets_the_codes_and_one_of_the_same_instant_adds_its_own(connection):
    """The same state read with more or less detail (a delivery names the discount, a listing its code too)."""
    apply(connection, payload("order_created_purchase", discount=None))
    assert codes() == SPRING10[1:]
    apply(connection, payload("order_created_purchase"))
    assert codes() == [SPRING10[1], SPRING10[0]]
    apply(connection, discounted(SUMMER, modified_at="2026-09-04T10:00:00Z"))
    assert codes() == ["summer5", SUMMER["id"]]


def test_an_older_subscription_state_still_brings_the_visitor_id_the_row_lacks(connection):
    """A checkout that names the visitor may reach us after newer states of its subscription."""
    apply(connection, renewal())
    apply(connection, subscription(modified_at="2026-11-04T09:00:00.000000Z"))
    assert match(renewal()["data"]["id"]) == ("", MatchedBy.NONE)

    apply(connection, subscription(visitor="v_signup", modified_at="2026-10-01T09:00:00.000000Z"))

    assert match(renewal()["data"]["id"]) == ("v_signup", MatchedBy.SUBSCRIPTION)
    assert Subscription.objects.get().source_updated_at == dt.datetime(2026, 11, 4, 9, tzinfo=dt.UTC)
    apply(connection, subscription(visitor="v_other", modified_at="2026-10-02T09:00:00.000000Z"))
    assert match(renewal()["data"]["id"]) == ("v_signup", MatchedBy.SUBSCRIPTION)  # fills, never replaces


def test_an_email_match_stays_until_a_stronger_match_appears(connection, notified):
    apply(connection, renewal())
    order = order_match_visitor(order=Order.objects.get(), visitor_id="v_identified", matched_by=MatchedBy.EMAIL)

    assert notified(connection, subscription()) == [order.pk]  # the subscription changed, its order is told
    assert match(order.external_id) == ("v_identified", MatchedBy.EMAIL)

    assert notified(connection, subscription(visitor="v_signup", modified_at="2026-11-04T09:00:00.000000Z")) == [
        order.pk
    ]
    assert match(order.external_id) == ("v_signup", MatchedBy.SUBSCRIPTION)
    order_match_visitor(order=order, visitor_id="v_identified", matched_by=MatchedBy.EMAIL)
    assert match(order.external_id) == ("v_signup", MatchedBy.SUBSCRIPTION)


def test_a_refund_that_stops_counting_gives_its_amount_back(connection):
    """A refund that left `succeeded` (or one reversing another, a negative amount) lowers what the order
    reports as refunded, which otherwise never falls."""
    apply(connection, payload("order_created_purchase"))
    apply(connection, payload("refund_created"))
    assert (Order.objects.get().refunded_minor, Order.objects.get().status) == (4410, "refunded")

    apply(connection, payload("refund_created", status="canceled", modified_at="2026-09-11T08:00:00.000000Z"))

    assert (Order.objects.get().refunded_minor, Order.objects.get().status) == (0, "paid")


def test_refund_notifies_the_consumers_of_its_order(connection, notified):
    apply(connection, payload("order_created_purchase"))
    assert notified(connection, payload("refund_created")) == [Order.objects.get().pk]
    assert Order.objects.get().refunded_minor == 4410


def test_a_lower_status_at_the_same_instant_never_replaces_a_later_stage(connection):
    stamp = "2026-10-03T14:27:40.100000Z"
    apply(connection, payload("order_created_renewal_pending", status="paid", paid=True, modified_at=stamp))
    apply(connection, payload("order_created_renewal_pending", status="pending", paid=False, modified_at=stamp))
    assert Order.objects.get().status == "paid"


def test_an_active_update_at_the_same_instant_never_revives_a_canceled_subscription(connection):
    apply(connection, payload("subscription_updated_revoked"))
    apply(connection, payload("subscription_updated_revoked", status="active", ended_at=None))
    assert (Subscription.objects.get().status, Subscription.objects.get().ended_at) == (
        "canceled",
        dt.datetime(2026, 11, 3, 14, 25, 12, 118870, tzinfo=dt.UTC),
    )


def test_migration_keeps_each_metadata_match_as_the_orders_own(connection):
    apply(connection, payload("order_created_purchase"))  # matched through the customer's metadata
    unmatched = anonymous(payload("order_created_purchase", id="66666666-0000-4000-8000-000000000006"))
    unmatched["data"]["customer"]["id"] = "another-customer"
    apply(connection, unmatched)
    Order.objects.update(visitor_ref="")
    migration = importlib.import_module("integrations.migrations.0005_order_visitor_ref")

    migration.visitor_ref_backfill(apps, None)

    assert dict(Order.objects.values_list("matched_by", "visitor_ref")) == {"metadata": "v_01J8Z3K2M4", "none": ""}


def test_migration_gives_orders_refunded_before_the_status_was_derived_their_true_status(connection):
    apply(connection, payload("order_created_purchase"))
    apply(connection, payload("refund_created"))
    apply(connection, payload("order_created_purchase", id="66666666-0000-4000-8000-000000000006"))
    apply(
        connection,
        payload("refund_created", id="re_partial", order_id="66666666-0000-4000-8000-000000000006", amount=1000),
    )
    apply(connection, payload("order_created_purchase", id="77777777-0000-4000-8000-000000000007"))
    Order.objects.update(status="paid")  # as stored before
    migration = importlib.import_module("integrations.migrations.0008_order_status_from_refunds")

    migration.forwards(apps, None)

    assert sorted(Order.objects.values_list("refunded_minor", "status")) == [
        (0, "paid"),
        (1000, "partially_refunded"),
        (4410, "refunded"),
    ]
