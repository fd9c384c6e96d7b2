"""Where a workspace's credits stand: the settings they were computed with, and the recompute that a
change of those settings is waiting for or running."""

from dataclasses import dataclass

from attribution.models import RecomputeRun, RecomputeStatus
from attribution.params import AttributionParams
from attribution.selectors.reports import served_params
from trackrev.workspaces.models import Workspace


@dataclass(frozen=True)
class RecomputeProgress:
    computed_with: AttributionParams  # the served credits'
    run: RecomputeRun | None  # queued or running
    pending: str  # a settings change no recompute has picked up yet, described; "" when none


def recompute_progress(*, workspace: Workspace) -> RecomputeProgress:
    computed_with = served_params(workspace)
    run = (
        RecomputeRun.objects.filter(workspace=workspace, status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING])
        .order_by("-version")
        .first()
    )
    wanted = AttributionParams.of(workspace)
    pending = "" if run else wanted.change_from(computed_with)
    return RecomputeProgress(computed_with=computed_with, run=run, pending=pending)
