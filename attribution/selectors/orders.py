"""Orders as the dashboard shows them: filtered lists with their credited channel, and the full
explanation of one order's credit (who the buyer was, the touch path, each touch's weight per model)."""

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.module_loading import import_string

from attribution import credit_models as cm
from attribution.models import Credit, OrderAttribution, Touch
from attribution.selectors.reports import served_params, served_version
from attribution.services.journeys import journey_subjects, journeys, stitched_visitors
from integrations.models import Order
from integrations.selectors import order_list as ledger_order_list
from trackrev.workspaces.models import Workspace


def order_list(*, workspace: Workspace, filters: dict | None = None) -> QuerySet[Order]:
    """Newest first, with the served credits of the workspace's default model prefetched as `shown_credits`."""
    filters = filters or {}
    version, model = served_version(workspace), workspace.attribution_model
    orders = ledger_order_list(
        workspace=workspace,
        processor=filters.get("processor", ""),
        status=filters.get("status", ""),
        start=filters.get("start"),
        end=filters.get("end"),
    )
    if filters.get("kind"):
        orders = orders.filter(kind=filters["kind"])
    if filters.get("channel"):
        orders = orders.filter(
            pk__in=Credit.objects.filter(
                workspace=workspace, version=version, model=model, channel__iexact=filters["channel"]
            ).values("order_id")
        )
    shown = Credit.objects.filter(version=version, model=model).order_by("-weight", "channel")
    return orders.prefetch_related(Prefetch("credits", queryset=shown, to_attr="shown_credits"))


def order_get(*, workspace: Workspace, order_id: int) -> Order | None:
    return Order.objects.filter(workspace=workspace, pk=order_id).select_related("subscription").first()


@dataclass(frozen=True)
class PathStep:
    touch: Touch
    weights: dict[str, int]  # model → millionths


@dataclass(frozen=True)
class OrderExplanation:
    order: Order
    credited_order: Order  # the order whose journey is credited (a renewal's first order)
    visitors: list[str]
    path: list[PathStep]
    credits: dict[str, list[Credit]] = field(default_factory=dict)  # model → rows
    lookback_days: int = 30
    match_verified: bool = True  # False: the buyer was found through an email a browser bound


def order_explain(*, workspace: Workspace, order: Order) -> OrderExplanation:
    lookback_days = served_params(workspace).lookback_days
    subject = journey_subjects(orders=[order])[order.pk]
    touchpoints = journeys(workspace=workspace, orders=[subject], lookback_days=lookback_days)[subject.pk]
    visitors = sorted(stitched_visitors(workspace=workspace, orders=[subject])[subject.pk])
    per_model = {
        model: cm.touch_weights(model, touchpoints, converted_at=subject.placed_at) if touchpoints else []
        for model in cm.MODELS
    }
    touches = Touch.objects.in_bulk([t.ref for t in touchpoints])
    path = [
        PathStep(touches[t.ref], {model: per_model[model][i] for model in cm.MODELS}) for i, t in enumerate(touchpoints)
    ]
    credits = _served_credits(order, workspace)
    verified = OrderAttribution.objects.filter(order=order).values_list("match_verified", flat=True).first()
    return OrderExplanation(order, subject, visitors, path, credits, lookback_days, verified is not False)


def _served_credits(order: Order, workspace: Workspace) -> dict[str, list[Credit]]:
    credits: dict[str, list[Credit]] = {model: [] for model in cm.MODELS}
    rows = Credit.objects.filter(order=order, version=served_version(workspace)).order_by("-weight", "channel")
    for credit in rows:
        credits[credit.model].append(credit)
    return credits


@dataclass(frozen=True)
class OrderAttributionState:
    """What an ATTRIBUTION_CONSUMERS task reads of an order: the order (its match included), its served
    credits per model, and the revision they carry (apply only revisions newer than one applied)."""

    order: Order
    revision: int
    credits: dict[str, list[Credit]]  # model → rows, largest weight first
    # False when the buyer was found only through an email a browser bound: pay nothing on it.
    match_verified: bool


def order_attribution_get(*, order_id: int) -> OrderAttributionState | None:
    """None until attribution has something to tell about the order. The revision is read before the
    credits, so the credits are never older than the revision says (a newer change brings its own
    notification)."""
    snapshot = OrderAttribution.objects.filter(order_id=order_id).values_list("revision", "match_verified").first()
    order = Order.objects.select_related("workspace").filter(pk=order_id).first()
    if snapshot is None or order is None:
        return None
    revision, match_verified = snapshot
    return OrderAttributionState(
        order=order, revision=revision, credits=_served_credits(order, order.workspace), match_verified=match_verified
    )


@lru_cache(maxsize=1)
def _partner_resolver(dotted: str):
    return import_string(dotted)


def order_partners(*, workspace: Workspace, order_ids: list[int]) -> dict[int, dict]:
    """Who gets paid for each order, beside the marketing credits: the app that owns partners answers
    (settings.ORDER_PARTNER_RESOLVER) without attribution importing it. Orders no partner earns are absent."""
    if not settings.ORDER_PARTNER_RESOLVER or not order_ids:
        return {}
    return _partner_resolver(settings.ORDER_PARTNER_RESOLVER)(workspace_id=workspace.pk, order_ids=order_ids)
