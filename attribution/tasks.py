"""Attribution jobs: thin wrappers taking ids; every service they call is idempotent."""

from celery import shared_task

from attribution.services.channels import touches_reclassify as touches_reclassify_service
from attribution.services.conversions import conversion_record as conversion_record_service
from attribution.services.conversions import identities_apply
from attribution.services.pixel import touches_flush as touches_flush_service
from attribution.services.recompute import workspace_params_apply, workspace_recompute_run, workspace_recompute_start
from attribution.services.sale_events import sale_events_emit as sale_events_emit_service
from attribution.services.visitors import visitor_sets_sync
from trackrev.workspaces.models import Workspace


@shared_task(name="attribution.conversion_record", acks_late=True)
def conversion_record(order_id: int) -> None:
    conversion_record_service(order_id=order_id)


@shared_task(name="attribution.workspace_recompute", acks_late=True)
def workspace_recompute(run_id: int) -> None:
    workspace_recompute_run(run_id=run_id)


@shared_task(name="attribution.visitor_sets_sync", acks_late=True)
def visitor_sets_sync_all() -> None:
    """Fold new touches into the per-day visitor sets of every workspace (a no-op where none arrived)."""
    for workspace in Workspace.objects.iterator():
        visitor_sets_sync(workspace=workspace)


@shared_task(name="attribution.channel_rules_applied", acks_late=True)
def channel_rules_applied(workspace_id: int) -> None:
    """CHANNEL_RULES_CONSUMERS: touches were re-labelled, so credits and visitor sets are recomputed."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        workspace_recompute_start(workspace=workspace, reason="Channel rules changed")


@shared_task(name="attribution.workspace_settings_changed", acks_late=True)
def workspace_settings_changed(workspace_id: int) -> None:
    """WORKSPACE_CONSUMERS: a change of lookback or time zone recomputes credits, however it was made."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        workspace_params_apply(workspace=workspace)


@shared_task(name="attribution.touches_reclassify", acks_late=True)
def touches_reclassify(workspace_id: int) -> int:
    """Re-apply the workspace's channel rules to its stored touches (after a rule changed)."""
    return touches_reclassify_service(workspace_id=workspace_id)


@shared_task(name="attribution.touches_flush", acks_late=True)
def touches_flush() -> int:
    """Move pixel hits buffered in Redis into touches (a no-op without Redis)."""
    return touches_flush_service()


@shared_task(name="attribution.identities_apply", acks_late=True)
def identities_apply_all() -> None:
    """Re-credit the orders that newly bound emails concern, in every workspace (a no-op where none)."""
    for workspace in Workspace.objects.iterator():
        identities_apply(workspace=workspace)


# An ATTRIBUTION_CONSUMERS task: the sale.* outbound webhooks, from the order's current attribution.
@shared_task(name="attribution.sale_events_emit", acks_late=True)
def sale_events_emit(order_id: int) -> None:
    sale_events_emit_service(order_id=order_id)
