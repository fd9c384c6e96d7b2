""" "Attribution changed" (settings.ATTRIBUTION_CONSUMERS): consumers hear, through the outbox and in the
transaction that wrote it, of every order whose visitor match or served credits changed, so they never
race attribution. Each change grows the order's OrderAttribution.revision by one."""

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from attribution.models import Credit, OrderAttribution
from attribution.services.journeys import journey_subjects, unverified_matches
from integrations.models import MatchedBy, Order
from trackrev.outbox.services import notifications_enqueue
from trackrev.workspaces.models import Workspace

# What a consumer can read of a credit: a change to any of these is a change of the order's credits.
CREDIT_FIELDS = ("model", "channel", "channel_group", "campaign", "weight", "revenue_usd_minor", "revenue_minor")
CHUNK = 2000
# What deciding an order's match and whether it is verified reads (unverified_matches).
MATCH_FIELDS = (
    "pk",
    "workspace_id",
    "visitor_id",
    "matched_by",
    "kind",
    "subscription_id",
    "customer_email_digest",
    "placed_at",
)


def credits_changed(old: Iterable[Credit], new: Iterable[Credit]) -> set[int]:
    """Ids of the orders whose credit rows differ between `old` and `new`."""

    def by_order(rows) -> dict[int, set[tuple]]:
        sets: dict[int, set[tuple]] = defaultdict(set)
        for row in rows:
            sets[row.order_id].add(tuple(getattr(row, name) for name in CREDIT_FIELDS))
        return sets

    before, after = by_order(old), by_order(new)
    return {order_id for order_id in before.keys() | after.keys() if before.get(order_id) != after.get(order_id)}


def versions_diff(*, workspace: Workspace, old: int, new: int) -> list[int]:
    """Ids of the orders whose credits differ between two versions: a credit row found in only one."""
    return list(
        Credit.objects.filter(workspace=workspace, version__in=[old, new])
        .values("order_id", *CREDIT_FIELDS)
        .annotate(copies=Count("id"))
        .filter(copies=1)
        .values_list("order_id", flat=True)
        .distinct()
    )


def order_attributions_record(*, orders: Iterable[Order], changed: set[int], subjects: dict[int, Order]) -> list[int]:
    """Give a new revision to each of `orders` (locked by the caller) whose credits changed (`changed`)
    or whose match is not the one last notified, and notify ATTRIBUTION_CONSUMERS of them."""
    orders = list(orders)
    known = OrderAttribution.objects.in_bulk([order.pk for order in orders])
    unverified = unverified_matches(subjects=subjects)
    created, updated, now = [], [], timezone.now()
    for order in orders:
        match = (order.visitor_id, order.matched_by, order.pk not in unverified)
        snapshot = known.get(order.pk)
        if snapshot is None:
            if order.pk not in changed and match[:2] == ("", MatchedBy.NONE):
                continue  # nothing to tell yet: no credits, no match
            snapshot = OrderAttribution(order=order, workspace_id=order.workspace_id)
            created.append(snapshot)
        elif order.pk in changed or (snapshot.visitor_id, snapshot.matched_by, snapshot.match_verified) != match:
            updated.append(snapshot)
        else:
            continue
        snapshot.revision += 1
        snapshot.visitor_id, snapshot.matched_by, snapshot.match_verified = match
        snapshot.updated_at = now
    OrderAttribution.objects.bulk_create(created, batch_size=500)
    OrderAttribution.objects.bulk_update(
        updated, ["revision", "visitor_id", "matched_by", "match_verified", "updated_at"], batch_size=500
    )
    order_ids = [snapshot.order_id for snapshot in (*created, *updated)]
    notifications_enqueue(tasks=settings.ATTRIBUTION_CONSUMERS, subject_ids=order_ids)
    return order_ids


def order_attributions_bump(*, order_ids: list[int]) -> None:
    """A new revision for each order whose credits changed wholesale (a recompute switched versions)."""
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        orders = Order.objects.filter(pk__in=chunk).only(*MATCH_FIELDS)
        orders = list(orders)
        order_attributions_record(orders=orders, changed=set(chunk), subjects=journey_subjects(orders=orders))
