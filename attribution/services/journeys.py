"""From orders to journeys: which visitors are the buyer (stitched by email), which of their touches
fall in the lookback window, and each model's channel weights. Batch-shaped, so a workspace-wide
recompute reads touches once per batch of orders instead of once per order."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from attribution import credit_models as cm
from attribution.models import Identity, IdentitySource, Touch
from integrations.models import MatchedBy, Order, OrderKind
from trackrev.workspaces.models import Workspace


def stitched_visitors(*, workspace: Workspace, orders: Iterable[Order]) -> dict[int, set[str]]:
    """Order id → the visitor ids that are the buyer: its own visitor plus every visitor that the
    customer's backend bound to an email that visitor was bound to, or to the order's customer email.
    Only server bindings stitch: a browser can bind any email, so its bindings never bring another
    visitor's touches into an order (README, "Who may move credit")."""
    orders = list(orders)
    own = {o.pk: {o.visitor_id} if o.visitor_id else set() for o in orders}
    visitors = set().union(*own.values()) if own else set()
    verified = Identity.objects.filter(workspace=workspace, source=IdentitySource.SERVER)
    digests_of: dict[str, set[str]] = defaultdict(set)
    for visitor_id, digest in verified.filter(visitor_id__in=visitors).values_list("visitor_id", "email_digest"):
        digests_of[visitor_id].add(digest)
    order_digests = {
        o.pk: {d for v in own[o.pk] for d in digests_of[v]} | ({o.customer_email_digest} - {""}) for o in orders
    }
    all_digests = set().union(*order_digests.values()) if order_digests else set()
    visitors_of: dict[str, set[str]] = defaultdict(set)
    for visitor_id, digest in verified.filter(email_digest__in=all_digests).values_list("visitor_id", "email_digest"):
        visitors_of[digest].add(visitor_id)
    return {o.pk: own[o.pk].union(*(visitors_of[d] for d in order_digests[o.pk])) for o in orders}


def first_orders(*, orders: Iterable[Order]) -> dict[int, Order]:
    """Renewal id → its subscription's first order (the earliest that is not a renewal)."""
    renewals = [o for o in orders if o.kind == OrderKind.RENEWAL and o.subscription_id]
    if not renewals:
        return {}
    firsts: dict[int, Order] = {}
    candidates = (
        Order.objects.filter(subscription_id__in={o.subscription_id for o in renewals})
        .exclude(kind=OrderKind.RENEWAL)
        .order_by("subscription_id", "placed_at", "id")
    )
    for candidate in candidates:
        firsts.setdefault(candidate.subscription_id, candidate)
    return {o.pk: firsts[o.subscription_id] for o in renewals if o.subscription_id in firsts}


def journey_subjects(*, orders: Iterable[Order]) -> dict[int, Order]:
    """Order id → the order whose journey credits it: a renewal's first order, else the order itself (a
    Newsletter signup keeps crediting Newsletter on every renewal)."""
    orders = list(orders)
    firsts = first_orders(orders=orders)
    return {o.pk: firsts.get(o.pk, o) for o in orders}


def unverified_matches(*, subjects: dict[int, Order]) -> set[int]:
    """Ids of the orders of `subjects` (journey_subjects) whose credited journey starts from a visitor
    found only through an email that a browser bound: anyone who knows the email could have sent it."""
    by_email = [s for s in subjects.values() if s.matched_by == MatchedBy.EMAIL]
    if not by_email:
        return set()
    vouched = set(
        Identity.objects.filter(
            workspace_id__in={s.workspace_id for s in by_email},
            visitor_id__in={s.visitor_id for s in by_email},
            email_digest__in={s.customer_email_digest for s in by_email},
            source=IdentitySource.SERVER,
        ).values_list("workspace_id", "visitor_id", "email_digest")
    )
    return {
        pk
        for pk, s in subjects.items()
        if s.matched_by == MatchedBy.EMAIL and (s.workspace_id, s.visitor_id, s.customer_email_digest) not in vouched
    }


def journeys(*, workspace: Workspace, orders: Iterable[Order], lookback_days: int) -> dict[int, list[cm.Touchpoint]]:
    """Order id → its buyer's touches inside the lookback window, oldest first."""
    orders = list(orders)
    if not orders:
        return {}
    people = stitched_visitors(workspace=workspace, orders=orders)
    everyone = set().union(*people.values())
    by_visitor: dict[str, list[cm.Touchpoint]] = defaultdict(list)
    if everyone:
        touches = Touch.objects.filter(
            workspace=workspace,
            visitor_id__in=everyone,
            occurred_at__gte=min(o.placed_at for o in orders) - timedelta(days=lookback_days),
            occurred_at__lte=max(o.placed_at for o in orders),
        ).values_list("id", "visitor_id", "occurred_at", "channel", "channel_group", "campaign")
        for touch_id, visitor_id, occurred_at, channel, group, campaign in touches:
            by_visitor[visitor_id].append(cm.Touchpoint(occurred_at, channel, group, campaign, ref=touch_id))
    return {
        o.pk: cm.in_window(
            [t for v in people[o.pk] for t in by_visitor[v]], converted_at=o.placed_at, lookback_days=lookback_days
        )
        for o in orders
    }


def order_weights(
    *, workspace: Workspace, subjects: dict[int, Order], lookback_days: int
) -> dict[int, cm.ModelWeights]:
    """Order id → channel weights per model, each weighed through its subject's journey
    (journey_subjects): a renewal reuses exactly its first order's weights, in every model."""
    unique_subjects = {s.pk: s for s in subjects.values()}
    paths = journeys(workspace=workspace, orders=unique_subjects.values(), lookback_days=lookback_days)
    weights = {pk: cm.model_weights(paths[pk], converted_at=s.placed_at) for pk, s in unique_subjects.items()}
    return {pk: weights[subject.pk] for pk, subject in subjects.items()}
