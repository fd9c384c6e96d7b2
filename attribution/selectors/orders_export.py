"""Every order of a filtered list with its served credits under every model and its partner, read in
keyset-paginated batches so an export of any size holds one batch in memory at a time. Rows are plain
tuples: model instances would cost the export most of its time."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from attribution.models import Credit
from attribution.selectors.orders import order_list, order_partners
from attribution.selectors.reports import served_version
from trackrev.workspaces.models import Workspace

BATCH_SIZE = 2000
ORDER_FIELDS = (
    "id",
    "processor",
    "external_id",
    "kind",
    "status",
    "currency",
    "amount_minor",
    "amount_usd_minor",
    "refunded_minor",
    "placed_at",
    "paid_at",
    "visitor_id",
    "matched_by",
    "subscription_id",
)


@dataclass(frozen=True)
class ExportBatch:
    orders: list  # named rows of ORDER_FIELDS
    credits: dict[int, list[tuple]]  # order id → its (order id, model, channel, weight, revenue_usd_minor)
    partners: dict[int, dict]  # order id → order_partners' row, for the orders a partner earns


def order_export_batches(*, workspace: Workspace, filters: dict, batch_size: int = BATCH_SIZE) -> Iterator[ExportBatch]:
    """The orders `order_list` would show for `filters`, by ascending id; each order's credits by model,
    largest weight first. The served version is read per batch: a recompute that switches versions
    mid-export never leaves a batch without credits."""
    orders = (
        order_list(workspace=workspace, filters=filters)
        .prefetch_related(None)
        .order_by("pk")
        .values_list(*ORDER_FIELDS, named=True)
    )
    after = 0
    while batch := list(orders.filter(pk__gt=after)[:batch_size]):
        ids = [order.id for order in batch]
        # The batch's orders again as a subquery: a list of 2,000 ids costs more to send than to read.
        in_batch = orders.filter(pk__gt=after, pk__lte=ids[-1]).values("pk")
        credits: dict[int, list] = defaultdict(list)
        rows = (
            Credit.objects.filter(order_id__in=in_batch, version=served_version(workspace))
            .order_by("order_id", "model", "-weight", "channel")
            .values_list("order_id", "model", "channel", "weight", "revenue_usd_minor")
        )
        for credit in rows:
            credits[credit[0]].append(credit)
        yield ExportBatch(batch, credits, order_partners(workspace=workspace, order_ids=ids))
        after = ids[-1]
