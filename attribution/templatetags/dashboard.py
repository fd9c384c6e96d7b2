from django import template

from attribution.selectors.recompute import recompute_progress

register = template.Library()


@register.inclusion_tag("attribution/_recompute_status.html")
def recompute_status(workspace):
    """The recompute in progress or waiting to start, if any, and that the old numbers are still shown."""
    return {"progress": recompute_progress(workspace=workspace)}


@register.simple_tag
def recompute_progress_of(workspace):
    return recompute_progress(workspace=workspace)
