from django import template

from attribution.models import RecomputeRun, RecomputeStatus

register = template.Library()


@register.inclusion_tag("attribution/_recompute_status.html")
def recompute_status(workspace):
    """The recompute in progress, if any: its progress, and that the old numbers are still shown."""
    run = (
        RecomputeRun.objects.filter(workspace=workspace, status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING])
        .order_by("-version")
        .first()
    )
    return {"run": run}
