"""Credits per order per model and the daily rollups, maintained per order as a delta: the order's
credits are recomputed from its current state, the old rows' contribution is subtracted from the
rollups and the new rows' is added, so replays and duplicates converge ("derive, don't increment")."""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction

from attribution import credit_models as cm
from attribution.models import AttributionState, Credit, DailyRollup, DailyTotal, RecomputeRun, RecomputeStatus
from attribution.models.credits import ROLLUP_KEY, TOTAL_KEY
from attribution.params import AttributionParams
from attribution.services.changes import credits_changed, order_attributions_record
from attribution.services.journeys import journey_subjects, order_weights
from integrations.models import Order, OrderKind
from trackrev.workspaces.models import Workspace


def attribution_state_get(*, workspace: Workspace, lock: bool = False) -> AttributionState:
    state, _ = AttributionState.objects.get_or_create(
        workspace=workspace, defaults=AttributionParams.of(workspace).as_fields()
    )
    if lock:
        state = AttributionState.objects.select_for_update().get(pk=state.pk)
    return state


def order_revenue(order: Order) -> tuple[int, int]:
    """(USD minor, native minor) the order contributes: net of refunds; nothing until it is paid.
    A missing FX rate counts as 0 USD until the rate arrives and the order is recomputed."""
    if not order.is_paid:
        return 0, 0
    usd = (order.amount_usd_minor or 0) - (order.refunded_usd_minor or 0)
    return usd, order.amount_minor - order.refunded_minor


def credits_build(*, order: Order, weights: cm.ModelWeights, version: int, tz: zoneinfo.ZoneInfo) -> list[Credit]:
    """Unsaved credit rows; none for an unpaid order. Refunds lower revenue on the order's own date."""
    if not order.is_paid:
        return []
    usd, native = order_revenue(order)
    day = order.placed_at.astimezone(tz).date()
    rows = []
    for model in cm.MODELS:
        keys = list(weights[model])
        parts = [weights[model][k] for k in keys]
        usd_split = cm.largest_remainder(usd, parts)
        native_split = cm.largest_remainder(native, parts)
        for key, weight, usd_part, native_part in zip(keys, parts, usd_split, native_split, strict=True):
            rows.append(
                Credit(
                    workspace_id=order.workspace_id,
                    order=order,
                    version=version,
                    model=model,
                    channel=key[0],
                    channel_group=key[1],
                    campaign=key[2],
                    weight=weight,
                    revenue_usd_minor=usd_part,
                    revenue_minor=native_part,
                    currency=order.currency,
                    processor=order.processor,
                    day=day,
                )
            )
    return rows


def _contribution(rows: Iterable, key: tuple[str, ...], *, model: str | None) -> dict[tuple, list[int]]:
    """(model?, *key) → [usd, native, conversions] of the rows (of one model only when `model` is given)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        if model is not None and row.model != model:
            continue
        k = tuple(getattr(row, f) for f in key) if model else (row.model, *(getattr(row, f) for f in key))
        sums[k][0] += row.revenue_usd_minor
        sums[k][1] += row.revenue_minor
        sums[k][2] += row.weight
    return sums


def _upsert_delta(table_model, dims: list[str], delta: dict[tuple, list[int]], *, workspace_id: int, version: int):
    """One INSERT … ON CONFLICT DO UPDATE adding each delta (the same statement on SQLite and PostgreSQL),
    then rows that fell to zero are dropped."""
    params = [(workspace_id, version, *key, *values) for key, values in delta.items() if any(values)]
    if not params:
        return
    table = table_model._meta.db_table
    columns = ["workspace_id", "version", *dims]
    sums = ["revenue_usd_minor", "revenue_minor", "conversions"]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns + sums)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * (len(columns) + len(sums)))}) "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET "
        + ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums)
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    day = dims.index("day") + 2
    table_model.objects.filter(
        workspace_id=workspace_id,
        version=version,
        day__in={p[day] for p in params},
        revenue_usd_minor=0,
        revenue_minor=0,
        conversions=0,
    ).delete()


def rollups_apply_delta(*, workspace_id: int, version: int, old: list, new: list) -> None:
    """Add `new` and subtract `old` credit rows in the daily rollups and the daily totals."""
    for table_model, key, model in ((DailyRollup, ROLLUP_KEY, None), (DailyTotal, TOTAL_KEY, cm.LAST_TOUCH)):
        delta = _contribution(new, key, model=model)
        for k, (usd, native, conversions) in _contribution(old, key, model=model).items():
            delta[k][0] -= usd
            delta[k][1] -= native
            delta[k][2] -= conversions
        dims = list(key) if model else ["model", *key]
        _upsert_delta(table_model, dims, delta, workspace_id=workspace_id, version=version)


def live_versions(*, workspace: Workspace, state: AttributionState) -> dict[int, AttributionParams]:
    """The version being served plus any a recompute is building, each with the settings it is computed
    with (orders that change meanwhile must land in both)."""
    versions = {state.version: AttributionParams.of(state)}
    for run in RecomputeRun.objects.filter(
        workspace=workspace, status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING]
    ):
        versions[run.version] = AttributionParams.of(run)
    return versions


def orders_credit(
    *, workspace: Workspace, orders: list[Order], versions: dict[int, AttributionParams], served: int | None
) -> int:
    """Replace the credits of `orders` in each version, computed with that version's settings. The
    rollups of `served` follow by delta (a version under construction gets its rollups built in one go
    when it completes), and consumers hear of the served credits that changed."""
    subjects = journey_subjects(orders=orders)
    weights_by_lookback: dict[int, dict[int, cm.ModelWeights]] = {}
    created = 0
    for version, params in versions.items():
        if params.lookback_days not in weights_by_lookback:
            weights_by_lookback[params.lookback_days] = order_weights(
                workspace=workspace, subjects=subjects, lookback_days=params.lookback_days
            )
        weights, tz = weights_by_lookback[params.lookback_days], zoneinfo.ZoneInfo(params.timezone)
        new = [row for o in orders for row in credits_build(order=o, weights=weights[o.pk], version=version, tz=tz)]
        old_rows = Credit.objects.filter(order__in=orders, version=version)
        if version == served:
            old = list(old_rows)
            rollups_apply_delta(workspace_id=workspace.pk, version=version, old=old, new=new)
            order_attributions_record(orders=orders, changed=credits_changed(old, new), subjects=subjects)
        old_rows.delete()
        Credit.objects.bulk_create(new, batch_size=1000)
        created += len(new)
    return created


@transaction.atomic
def order_credits_refresh(*, order_id: int) -> None:
    """Recompute one order's credits (and, for a subscription's first order, its renewals') in every
    live version. The workspace's state row is locked so a recompute cannot switch versions midway."""
    order = Order.objects.select_related("workspace").filter(pk=order_id).first()
    if order is None:
        return
    workspace = order.workspace
    state = attribution_state_get(workspace=workspace, lock=True)
    affected = [order]
    if order.subscription_id and order.kind != OrderKind.RENEWAL:
        affected += list(order.subscription.orders.filter(kind=OrderKind.RENEWAL).exclude(pk=order.pk))
    locked = list(Order.objects.select_for_update().filter(pk__in=[o.pk for o in affected]).order_by("pk"))
    orders_credit(
        workspace=workspace,
        orders=locked,
        versions=live_versions(workspace=workspace, state=state),
        served=state.version,
    )
