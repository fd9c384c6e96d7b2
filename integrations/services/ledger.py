"""Ledger upserts shared by webhooks and reconcile.

Rows are keyed on (connection, external_id) in the database; an incoming state older than the stored
`source_updated_at` is ignored, so out-of-order deliveries and stale retries converge on the latest
state. Consumers are notified on commit only when something actually changed.

An order's visitor match is a function of the stored rows (its own metadata, its customer, its
subscription and the subscription's other orders), so it runs again, and notifies, wherever the ledger
changes one of them: orders that arrive before their subscription or first order match once those land.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.db.models import Q, Sum, Window
from django.db.models.functions import RowNumber

from integrations.models import (
    Customer,
    FirstSeenVia,
    MatchedBy,
    Order,
    OrderKind,
    OrderStatus,
    ProcessorConnection,
    Refund,
    RefundStatus,
    Subscription,
)
from integrations.models.ledger import PAID_ORDER_STATUSES, TERMINAL_SUBSCRIPTION_STATUSES
from integrations.processors.types import (
    Change,
    CustomerChange,
    NormalizedCustomer,
    NormalizedOrder,
    NormalizedRefund,
    NormalizedSubscription,
    OrderChange,
    RefundChange,
    SubscriptionChange,
)
from integrations.services.consumers import order_consumers_notify, orders_consumers_notify
from integrations.services.fx import order_fx_apply
from trackrev.common.emails import email_digest, email_domain
from trackrev.workspaces.usage import usage_order_record

# For identical source timestamps (a processor may send several events with one snapshot): the later stage wins.
ORDER_STATUS_RANK = {"draft": 0, "pending": 1, "void": 2, "paid": 3, "partially_refunded": 4, "refunded": 5}


@dataclass(frozen=True)
class UpsertResult:
    obj: models.Model | None
    created: bool = False
    changed: bool = False  # created, or an existing row took a new state


def _lock_or_create(model, *, connection: ProcessorConnection, external_id: str, defaults: dict):
    """The row locked for update, inserting it when absent; a concurrent insert loses to the unique key."""
    locked = model.objects.select_for_update().filter(connection=connection, external_id=external_id)
    obj = locked.first()
    if obj is not None:
        return obj, False
    try:
        with transaction.atomic():
            return model.objects.create(connection=connection, external_id=external_id, **defaults), True
    except IntegrityError:
        return locked.get(), False


def _assign(obj: models.Model, values: dict) -> bool:
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


def _customer_upsert(*, connection: ProcessorConnection, customer: NormalizedCustomer) -> tuple[Customer, bool]:
    """The customer's row, and whether an existing one took a new visitor id or email (its orders may match
    anew). A state without an email or visitor id never clears one, and an older state only fills what the
    row lacks: processors send a customer's details in events of their own, in any order."""
    values = {"source_updated_at": customer.source_updated_at}
    if customer.email:
        values["email_digest"] = email_digest(customer.email)
        values["email_domain"] = email_domain(customer.email)
    if customer.visitor_ref:
        values["visitor_id"] = customer.visitor_ref
    obj, created = _lock_or_create(
        Customer,
        connection=connection,
        external_id=customer.external_id,
        defaults={"workspace_id": connection.workspace_id, **values},
    )
    if created:
        return obj, False
    if customer.source_updated_at < obj.source_updated_at:
        values = {
            field: value for field, value in values.items() if field != "source_updated_at" and not getattr(obj, field)
        }
    before = (obj.visitor_id, obj.email_digest)
    if _assign(obj, values):
        obj.save()
    return obj, (obj.visitor_id, obj.email_digest) != before


def _shared_visitor(order: Order) -> str:
    """The visitor an order names through its own or its customer's metadata: the one the other orders of
    its subscription may follow (matches through the subscription never pass on, so none feeds on another)."""
    return order.visitor_id if order.matched_by == MatchedBy.METADATA else ""


SubscriptionKey = tuple[int, str]  # (connection id, the subscription's external id)


def subscription_visitors(
    *, keys: Iterable[SubscriptionKey], exclude_order_id: int | None = None
) -> dict[SubscriptionKey, str]:
    """The visitor bound to each subscription, which those of its orders that name none follow: the one its
    earliest order names (through the order's or its customer's metadata), else the subscription's own
    metadata's, else its customer's; "" when none. Two queries however many subscriptions and orders; the
    subscription's row may not exist yet."""
    keys = set(keys)
    if not keys:
        return {}
    of_orders, of_subscriptions = Q(), Q()
    for connection_id, external_id in keys:
        of_orders |= Q(connection_id=connection_id, subscription_external_id=external_id)
        of_subscriptions |= Q(connection_id=connection_id, external_id=external_id)
    named = Order.objects.filter(of_orders, matched_by=MatchedBy.METADATA)
    if exclude_order_id is not None:
        named = named.exclude(pk=exclude_order_id)
    earliest = (
        named.annotate(
            rank=Window(
                RowNumber(), partition_by=["connection_id", "subscription_external_id"], order_by=["placed_at", "pk"]
            )
        )
        .filter(rank=1)
        .values_list("connection_id", "subscription_external_id", "visitor_id")
    )
    visitors = {(connection_id, external_id): visitor for connection_id, external_id, visitor in earliest}
    rows = Subscription.objects.filter(of_subscriptions).values_list(
        "connection_id", "external_id", "visitor_id", "customer__visitor_id"
    )
    for connection_id, external_id, own, customers in rows:
        visitors.setdefault((connection_id, external_id), own or customers or "")
    return {key: visitors.get(key, "") for key in keys}


def _visitor_match(order: Order, subscriptions: dict[SubscriptionKey, str] | None = None) -> tuple[str, str]:
    """From the stored rows only: the order's metadata → its customer's → its subscription's (see
    subscription_visitors; read already in `subscriptions` when many orders are matched) → the email match
    attribution recorded, if any → none."""
    customer_visitor = order.customer.visitor_id if order.customer else ""
    if order.visitor_ref or customer_visitor:
        return order.visitor_ref or customer_visitor, MatchedBy.METADATA
    if order.subscription_external_id:
        key = (order.connection_id, order.subscription_external_id)
        if subscriptions is None:
            subscriptions = subscription_visitors(keys=[key], exclude_order_id=order.pk)
        if subscriptions[key]:
            return subscriptions[key], MatchedBy.SUBSCRIPTION
    if order.matched_by == MatchedBy.EMAIL:
        return order.visitor_id, MatchedBy.EMAIL
    return "", MatchedBy.NONE


def _match_assign(order: Order, subscriptions: dict[SubscriptionKey, str] | None = None) -> bool:
    visitor_id, matched_by = _visitor_match(order, subscriptions)
    return _assign(order, {"visitor_id": visitor_id, "matched_by": matched_by})


def _orders_rematch(orders) -> list[int]:
    """Run matching again on `orders` (locked, oldest first); the ids of those whose match changed. Their
    subscriptions' visitors are read once for all (read per order, each would read its subscription's
    orders again: quadratic in renewals); no order re-matched here changes them for one that follows its
    subscription, which names no visitor of its own."""
    locked = list(orders.select_for_update(of=("self",)).select_related("customer").order_by("placed_at", "pk"))
    subscriptions = subscription_visitors(
        keys={(o.connection_id, o.subscription_external_id) for o in locked if o.subscription_external_id}
    )
    changed = []
    for order in locked:
        if _match_assign(order, subscriptions):
            order.save(update_fields=["visitor_id", "matched_by", "updated_at"])
            changed.append(order.pk)
    return changed


def _subscriptions_rematch(*, connection_id: int, external_ids) -> list[int]:
    # Orders matched by their own metadata do not depend on the subscription's other orders.
    orders = Order.objects.filter(connection_id=connection_id, subscription_external_id__in=external_ids)
    return _orders_rematch(orders.exclude(matched_by=MatchedBy.METADATA))


def _customer_rematch(customer: Customer) -> list[int]:
    """A customer's new visitor id or email: their orders take the email (attribution's fallback reads it),
    those that name no visitor of their own match again, then the other orders of their subscriptions."""
    emailed = Order.objects.filter(customer=customer).exclude(customer_email_digest=customer.email_digest)
    changed = list(emailed.order_by("pk").values_list("pk", flat=True))
    emailed.update(customer_email_digest=customer.email_digest, customer_email_domain=customer.email_domain)
    orders = Order.objects.filter(customer=customer, visitor_ref="")
    rematched = _orders_rematch(orders)
    subscriptions = orders.filter(pk__in=rematched).exclude(subscription_external_id="")
    return [
        *changed,
        *rematched,
        *_subscriptions_rematch(
            connection_id=customer.connection_id,
            external_ids=subscriptions.values_list("subscription_external_id", flat=True),
        ),
    ]


@transaction.atomic
def customer_upsert(*, connection: ProcessorConnection, customer: NormalizedCustomer) -> UpsertResult:
    obj, moved = _customer_upsert(connection=connection, customer=customer)
    if moved:
        orders_consumers_notify(order_ids=_customer_rematch(obj))
    return UpsertResult(obj, changed=moved)


def _refunded_total(obj: Order, reported: int) -> int:
    succeeded = obj.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(total=Sum("amount_minor"))["total"]
    return max(reported, succeeded or 0)


def _order_status(reported: str, *, amount_minor: int, refunded_minor: int) -> str:
    """The processor's status, or the later stage the refunds we hold show: a refund event may land
    before, or instead of, the order update that says the order is (partially) refunded."""
    if reported not in PAID_ORDER_STATUSES or refunded_minor <= 0:
        return reported
    held = OrderStatus.REFUNDED if refunded_minor >= amount_minor else OrderStatus.PARTIALLY_REFUNDED
    return max(reported, held, key=ORDER_STATUS_RANK.__getitem__)


def _order_is_stale(order: NormalizedOrder, obj: Order) -> bool:
    if order.source_updated_at != obj.source_updated_at:
        return order.source_updated_at < obj.source_updated_at
    return ORDER_STATUS_RANK[order.status] < ORDER_STATUS_RANK.get(obj.status, 0)


def _order_values(order: NormalizedOrder, customer: Customer | None) -> dict:
    return {
        "kind": order.kind,
        "currency": order.currency,
        "amount_minor": order.amount_minor,
        "tax_minor": order.tax_minor,
        "placed_at": order.placed_at,
        "visitor_ref": order.visitor_ref,
        "discount_codes": list(order.discount_codes),
        "subscription_external_id": order.subscription_external_id,
        "customer": customer,
        "customer_email_digest": customer.email_digest if customer else "",
        "customer_email_domain": customer.email_domain if customer else "",
        "source_updated_at": order.source_updated_at,
    }


def _order_apply(obj: Order, *, order: NormalizedOrder, customer: Customer | None, created: bool) -> bool:
    """Take the incoming state and what follows from it (refunds, subscription, match, USD); saves the row
    and says so when anything changed."""
    values = _order_values(order, customer)
    if not order.visitor_ref:  # a state without the checkout's visitor id never clears it
        del values["visitor_ref"]
    if not order.discount_codes:  # nor one without the discount codes, which another event may carry
        del values["discount_codes"]
    elif order.source_updated_at == obj.source_updated_at:
        # The same state read with more or less detail (a webhook, a listing that expands the discount).
        values["discount_codes"] = list(dict.fromkeys([*obj.discount_codes, *order.discount_codes]))
    if not order.subscription_external_id and obj.subscription_external_id:
        # Named by its subscription (see _first_order_link): a state of the order that names none keeps it.
        del values["subscription_external_id"], values["kind"]
    changed = _assign(obj, values)
    if created:  # refunds delivered before their order
        Refund.objects.filter(
            connection_id=obj.connection_id, order_external_id=obj.external_id, order__isnull=True
        ).update(order=obj)
    subscription = (
        Subscription.objects.filter(connection_id=obj.connection_id, external_id=obj.subscription_external_id).first()
        if obj.subscription_external_id
        else None
    )
    refunded = _refunded_total(obj, order.refunded_minor)
    changed |= _assign(
        obj,
        {
            "paid_at": obj.paid_at or order.paid_at,  # the first time we saw it paid; refunds don't move it
            "subscription": subscription,
            "refunded_minor": refunded,
            "status": _order_status(order.status, amount_minor=order.amount_minor, refunded_minor=refunded),
        },
    )
    changed |= _match_assign(obj)
    changed |= order_fx_apply(obj)
    if created or changed:
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
    return created or changed


def _order_fill(obj: Order, order: NormalizedOrder) -> bool:
    """What an older state still brings that the row lacks (a checkout reported after its invoice): the
    visitor id, the discount codes. Saves them and says so when it brought any."""
    fields = []
    if order.visitor_ref and not obj.visitor_ref:
        obj.visitor_ref = order.visitor_ref
        _match_assign(obj)
        fields += ["visitor_ref", "visitor_id", "matched_by"]
    if order.discount_codes and not obj.discount_codes:
        obj.discount_codes = list(order.discount_codes)
        fields.append("discount_codes")
    if fields:
        obj.save(update_fields=[*fields, "updated_at"])
    return bool(fields)


@transaction.atomic
def order_upsert(*, connection: ProcessorConnection, order: NormalizedOrder, via: str) -> UpsertResult:
    customer, customer_moved = (
        _customer_upsert(connection=connection, customer=order.customer) if order.customer else (None, False)
    )
    obj, created = _lock_or_create(
        Order,
        connection=connection,
        external_id=order.external_id,
        defaults={
            **_order_values(order, customer),
            "status": order.status,
            "workspace_id": connection.workspace_id,
            "processor": connection.processor,
            "refunded_minor": order.refunded_minor,
            "paid_at": order.paid_at,
            "first_seen_via": via,
        },
    )
    if created:  # one event of the plan's monthly usage; never refused, whatever the plan
        usage_order_record(workspace_id=connection.workspace_id, placed_at=obj.placed_at)
    shared_before = _shared_visitor(obj)
    fresh = created or not _order_is_stale(order, obj)
    moved = _order_apply(obj, order=order, customer=customer, created=created) if fresh else _order_fill(obj, order)
    changed = [obj.pk] if moved else []
    if customer_moved:
        changed += _customer_rematch(customer)
    if obj.subscription_external_id and _shared_visitor(obj) != shared_before:
        changed += _subscriptions_rematch(connection_id=connection.pk, external_ids=[obj.subscription_external_id])
    orders_consumers_notify(order_ids=changed)
    return UpsertResult(obj, created=created, changed=obj.pk in changed)


def _first_order_link(*, connection: ProcessorConnection, subscription: NormalizedSubscription) -> bool:
    """The first order a subscription names (a processor whose orders do not name their subscription)
    takes it, and is its first sale, unless it names one already; True when it did. An order stored after
    its subscription is linked by the subscription's next state (a webhook, or the poll's listing)."""
    if not subscription.first_order_external_id:
        return False
    unlinked = Order.objects.filter(
        connection=connection, external_id=subscription.first_order_external_id, subscription_external_id=""
    )
    return unlinked.update(subscription_external_id=subscription.external_id, kind=OrderKind.SUBSCRIPTION_CREATE) > 0


@transaction.atomic
def subscription_upsert(*, connection: ProcessorConnection, subscription: NormalizedSubscription) -> UpsertResult:
    customer, customer_moved = (
        _customer_upsert(connection=connection, customer=subscription.customer)
        if subscription.customer
        else (None, False)
    )
    rematched = _customer_rematch(customer) if customer_moved else []
    values = {
        "status": subscription.status,
        "customer": customer,
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "canceled_at": subscription.canceled_at,
        "ended_at": subscription.ended_at,
        "started_at": subscription.started_at,
        "source_updated_at": subscription.source_updated_at,
    }
    if subscription.visitor_ref:
        values["visitor_id"] = subscription.visitor_ref
    obj, created = _lock_or_create(
        Subscription,
        connection=connection,
        external_id=subscription.external_id,
        defaults={**values, "workspace_id": connection.workspace_id, "processor": connection.processor},
    )
    linked = _first_order_link(connection=connection, subscription=subscription)
    if not created:
        older = subscription.source_updated_at < obj.source_updated_at
        # Same instant, different states: an ended subscription is never revived by its twin event.
        tie_revives = (
            subscription.source_updated_at == obj.source_updated_at
            and obj.status in TERMINAL_SUBSCRIPTION_STATUSES
            and subscription.status not in TERMINAL_SUBSCRIPTION_STATUSES
        )
        if older or tie_revives:  # an older state only brings a visitor id the row lacks
            values = {"visitor_id": subscription.visitor_ref} if subscription.visitor_ref and not obj.visitor_id else {}
        if not _assign(obj, values) and not linked:
            orders_consumers_notify(order_ids=rematched)
            return UpsertResult(obj)
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()
    Order.objects.filter(
        connection=connection, subscription_external_id=obj.external_id, subscription__isnull=True
    ).update(subscription=obj)
    _subscriptions_rematch(connection_id=connection.pk, external_ids=[obj.external_id])  # all told below
    orders_consumers_notify(
        order_ids=[*rematched, *obj.orders.order_by("placed_at", "pk").values_list("pk", flat=True)]
    )
    return UpsertResult(obj, created=created, changed=True)


@transaction.atomic
def refund_upsert(*, connection: ProcessorConnection, refund: NormalizedRefund) -> UpsertResult:
    order = (
        Order.objects.select_for_update().filter(connection=connection, external_id=refund.order_external_id).first()
    )
    values = {
        "order": order,
        "order_external_id": refund.order_external_id,
        "status": refund.status,
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "refunded_at": refund.refunded_at,
        "source_updated_at": refund.source_updated_at,
    }
    obj, created = _lock_or_create(
        Refund,
        connection=connection,
        external_id=refund.external_id,
        defaults={**values, "workspace_id": connection.workspace_id},
    )
    counted_before = 0 if created else _refund_counted(obj)
    if not created and (refund.source_updated_at < obj.source_updated_at or not _assign(obj, values)):
        return UpsertResult(obj)
    obj.save()
    if order is not None:
        _order_refunds_apply(order, given_back=counted_before - _refund_counted(obj))
        order_consumers_notify(order_id=order.pk)
    return UpsertResult(obj, created=created, changed=True)


def _refund_counted(refund: Refund) -> int:
    return refund.amount_minor if refund.status == RefundStatus.SUCCEEDED else 0


def _order_refunds_apply(order: Order, *, given_back: int) -> None:
    """The order's refunded total and status after one of its refunds changed. The total never falls below
    what its refunds add up to, nor below what the order itself reported (which may count refunds we never
    saw), except by what a refund gives back: one that reverses another (a chargeback the merchant won, a
    negative amount) or one that stopped counting."""
    if given_back > 0:
        order.refunded_minor = max(order.refunded_minor - given_back, 0)
        if order.status in PAID_ORDER_STATUSES:
            order.status = OrderStatus.PAID  # derived again below from what is still refunded
    order.refunded_minor = max(_refunded_total(order, order.refunded_minor), 0)
    order.status = _order_status(order.status, amount_minor=order.amount_minor, refunded_minor=order.refunded_minor)
    order_fx_apply(order)
    order.save(update_fields=["refunded_minor", "status", "refunded_usd_minor", "amount_usd_minor", "updated_at"])


def change_apply(*, connection: ProcessorConnection, change: Change, via: str = FirstSeenVia.WEBHOOK) -> UpsertResult:
    """Route one normalized change to its upsert; Ignored changes do nothing."""
    if isinstance(change, OrderChange):
        return order_upsert(connection=connection, order=change.order, via=via)
    if isinstance(change, SubscriptionChange):
        return subscription_upsert(connection=connection, subscription=change.subscription)
    if isinstance(change, RefundChange):
        return refund_upsert(connection=connection, refund=change.refund)
    if isinstance(change, CustomerChange):
        return customer_upsert(connection=connection, customer=change.customer)
    return UpsertResult(None)


def change_order_ids(result: UpsertResult) -> list[int]:
    """The orders an applied change concerns: the order, a subscription's orders, a refund's order."""
    obj = result.obj
    if isinstance(obj, Order):
        return [obj.pk]
    if isinstance(obj, Subscription):
        return list(obj.orders.values_list("pk", flat=True))
    if isinstance(obj, Refund) and obj.order_id:
        return [obj.order_id]
    return []


@transaction.atomic
def order_match_visitor(*, order: Order, visitor_id: str, matched_by: str) -> Order:
    """Record a match found outside integrations (attribution's email step). Never overrides a stronger
    match from metadata or the subscription. Does not notify consumers: the caller is one."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.matched_by in (MatchedBy.METADATA, MatchedBy.SUBSCRIPTION) and matched_by == MatchedBy.EMAIL:
        return locked
    if _assign(locked, {"visitor_id": visitor_id, "matched_by": matched_by}):
        locked.save(update_fields=["visitor_id", "matched_by", "updated_at"])
    return locked
