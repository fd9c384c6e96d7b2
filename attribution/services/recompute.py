"""Workspace-wide recomputes (lookback, default model or channel rules changed): the new credits are
written under the next version in batches while the current version keeps being served, then the
rollups of the new version are built and `AttributionState.version` switches in one transaction."""

from celery import current_app
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from attribution.credit_models import LAST_TOUCH
from attribution.models import Credit, DailyRollup, DailyTotal, RecomputeRun, RecomputeStatus
from attribution.models.credits import ROLLUP_KEY, TOTAL_KEY
from attribution.services.credits import attribution_state_get, orders_credit
from attribution.services.visitors import visitor_sets_rebuild
from integrations.models import Order
from trackrev.workspaces.models import Workspace

RECOMPUTE_TASK = "attribution.workspace_recompute"
BATCH_SIZE = 500
ACTIVE = (RecomputeStatus.QUEUED, RecomputeStatus.RUNNING)


@transaction.atomic
def workspace_recompute_start(*, workspace: Workspace, reason: str = "") -> RecomputeRun:
    """Queue a recompute of every order of the workspace; an unfinished earlier one is superseded.
    Call it after whatever changed (settings saved, touches re-labelled) is written."""
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
    )
    transaction.on_commit(lambda: current_app.send_task(RECOMPUTE_TASK, args=[run.pk]))
    return run


def _batch(run_id: int) -> tuple[RecomputeRun, bool]:
    """Credit the next batch of orders under the run's version; (run, more to do)."""
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update().select_related("workspace").get(pk=run_id)
        if run.status != RecomputeStatus.RUNNING:
            return run, False
        orders = list(
            Order.objects.select_for_update()
            .filter(workspace=run.workspace, pk__gt=run.last_order_id)
            .order_by("pk")[:BATCH_SIZE]
        )
        if not orders:
            return run, False
        orders_credit(workspace=run.workspace, orders=orders, versions=[run.version], served=None)
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
    run = RecomputeRun.objects.select_for_update().select_related("workspace").get(pk=run_id)
    if run.status != RecomputeStatus.RUNNING:
        return run
    rollups_build(workspace=run.workspace, version=run.version)
    visitor_sets_rebuild(workspace=run.workspace)
    state.version = run.version
    state.save(update_fields=["version"])
    run.status, run.finished_at = RecomputeStatus.SUCCEEDED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
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
