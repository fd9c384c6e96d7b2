"""`{% usage_banner %}` in the page shell: a Free workspace sees its monthly events once it nears
or passes the quota, with what that means."""

from django import template

from trackrev.workspaces.models import Plan
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, usage_month_events

register = template.Library()

WARN_FROM = 0.8


@register.inclusion_tag("workspaces/usage_banner.html", takes_context=True)
def usage_banner(context) -> dict:
    workspace = context.get("workspace")
    if workspace is None or workspace.plan != Plan.FREE:
        return {"show": False}
    events = usage_month_events(workspace_id=workspace.pk)
    return {
        "show": events >= FREE_MONTHLY_EVENTS * WARN_FROM,
        "over": events > FREE_MONTHLY_EVENTS,
        "events": events,
        "limit": FREE_MONTHLY_EVENTS,
    }
