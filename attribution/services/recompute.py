"""Workspace-wide recomputes (lookback, default model or channel rules changed): the new credits are
written under the next version in batches while the current version keeps being served, then the
rollups of the new version are built and `AttributionState.version` switches in one transaction."""

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from attribution.credit_models import LAST_TOUCH
from attribution.models import Credit, DailyRollup, DailyTotal, RecomputeRun, RecomputeStatus
from attribution.models.credits import ROLLUP_KEY, TOTAL_KEY
from attribution.params import AttributionParams
from attribution.services.changes import order_attributions_bump, versions_diff
from attribution.services.credits import attribution_state_get, orders_credit
from attribution.services.visitors import visitor_sets_rebuild
from integrations.models import Order
from trackrev.outbox.services import notifications_enqueue
from trackrev.workspaces.models import Workspace

RECOMPUTE_TASK = "attribution.workspace_recompute"
BATCH_SIZE = 500
ACTIVE = (RecomputeStatus.QUEUED, RecomputeStatus.RUNNING)


@transaction.atomic
def workspace_recompute_start(
    *, workspace: Workspace, reason: str = "", params: AttributionParams | None = None
) -> RecomputeRun:
    """Queue a recompute of every order of the workspace with `params` (default: its current settings);
    an unfinished earlier one is superseded. Call it after whatever changed (settings saved, touches
    re-labelled) is written."""
    params = params or AttributionParams.of(workspace)
    state = attribution_state_get(workspace=workspace, lock=True)
    RecomputeRun.objects.filter(workspace=workspace, status__in=ACTIVE).update(
        status=RecomputeStatus.SUPERSEDED, finished_at=timezone.now()
    )
    newest = RecomputeRun.objects.filter(workspace=workspace).aggregate(v=Max("version"))["v"] or 0
    run = RecomputeRun.objects.create(
        workspace=workspace,
        version=max(state.version, newest) + 1,
        reason=reason[:200],
        total=Order.objects.filter(workspace=workspace).count(),
        **params.as_fields(),
    )
    notifications_enqueue(tasks=[RECOMPUTE_TASK], subject_ids=[run.pk])
    return run


@transaction.atomic
def workspace_params_apply(*, workspace: Workspace) -> RecomputeRun | None:
    """After the workspace's settings changed (WORKSPACE_CONSUMERS): recompute if the settings that shape
    credits now differ from those the served version, or the one being built, is computed with."""
    state = attribution_state_get(workspace=workspace, lock=True)
    building = RecomputeRun.objects.filter(workspace=workspace, status__in=ACTIVE).order_by("-version").first()
    current, wanted = AttributionParams.of(building or state), AttributionParams.of(workspace)
    if wanted == current:
        return None
    return workspace_recompute_start(workspace=workspace, reason=wanted.change_from(current), params=wanted)


def _batch(run_id: int) -> tuple[RecomputeRun, bool]:
    """Credit the next batch of orders under the run's version; (run, more to do)."""
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=run_id)
        if run.status != RecomputeStatus.RUNNING:
            return run, False
        orders = list(
            Order.objects.select_for_update()
            .filter(workspace=run.workspace, pk__gt=run.last_order_id)
            .order_by("pk")[:BATCH_SIZE]
        )
        if not orders:
            return run, False
        orders_credit(
            workspace=run.workspace, orders=orders, versions={run.version: AttributionParams.of(run)}, served=None
        )
        run.done += len(orders)
        run.last_order_id = orders[-1].pk
        run.save(update_fields=["done", "last_order_id"])
        return run, True


def rollups_build(*, workspace: Workspace, version: int) -> int:
    """The rollups and daily totals of a version, from its credits in one aggregate each (used when a
    recompute completes)."""
    DailyRollup.objects.filter(workspace=workspace, version=version).delete()
    DailyTotal.objects.filter(workspace=workspace, version=version).delete()
    totals = (
        Credit.objects.filter(workspace=workspace, version=version, model=LAST_TOUCH)
        .values(*TOTAL_KEY)
        .annotate(usd=Sum("revenue_usd_minor"), native=Sum("revenue_minor"), conversions=Sum("weight"))
        .order_by()
    )
    DailyTotal.objects.bulk_create(
        [
            DailyTotal(
                workspace=workspace,
                version=version,
                **{k: t[k] for k in TOTAL_KEY},
                revenue_usd_minor=t["usd"],
                revenue_minor=t["native"],
                conversions=t["conversions"],
            )
            for t in totals
        ],
        batch_size=1000,
    )
    sums = (
        Credit.objects.filter(workspace=workspace, version=version)
        .values("model", *ROLLUP_KEY)
        .annotate(usd=Sum("revenue_usd_minor"), native=Sum("revenue_minor"), conversions=Sum("weight"))
        .order_by()
    )
    rows = [
        DailyRollup(
            workspace=workspace,
            version=version,
            model=s["model"],
            **{k: s[k] for k in ROLLUP_KEY},
            revenue_usd_minor=s["usd"],
            revenue_minor=s["native"],
            conversions=s["conversions"],
        )
        for s in sums
    ]
    DailyRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def _finish(run_id: int) -> RecomputeRun:
    run = RecomputeRun.objects.select_related("workspace").get(pk=run_id)
    state = attribution_state_get(workspace=run.workspace, lock=True)  # consumers wait while we switch
    run = RecomputeRun.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=run_id)
    if run.status != RecomputeStatus.RUNNING:
        return run
    rollups_build(workspace=run.workspace, version=run.version)
    visitor_sets_rebuild(workspace=run.workspace)
    changed = versions_diff(workspace=run.workspace, old=state.version, new=run.version)
    state.version, state.lookback_days, state.timezone = run.version, run.lookback_days, run.timezone
    state.save(update_fields=["version", "lookback_days", "timezone"])
    run.status, run.finished_at = RecomputeStatus.SUCCEEDED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    order_attributions_bump(order_ids=changed)
    Credit.objects.filter(workspace=run.workspace, version__lt=run.version).delete()
    DailyRollup.objects.filter(workspace=run.workspace, version__lt=run.version).delete()
    DailyTotal.objects.filter(workspace=run.workspace, version__lt=run.version).delete()
    return run


def workspace_recompute_run(*, run_id: int) -> RecomputeRun:
    """Run (or resume: it is idempotent per batch) a queued recompute to completion."""
    updated = RecomputeRun.objects.filter(pk=run_id, status=RecomputeStatus.QUEUED).update(
        status=RecomputeStatus.RUNNING, started_at=timezone.now()
    )
    run = RecomputeRun.objects.get(pk=run_id)
    if not updated and run.status != RecomputeStatus.RUNNING:
        return run
    more = True
    while more:
        run, more = _batch(run_id)
    return _finish(run_id) if run.status == RecomputeStatus.RUNNING else run
