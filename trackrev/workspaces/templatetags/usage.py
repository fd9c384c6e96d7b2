"""`{% usage_banner %}` in the page shell: a Free workspace sees its monthly events from 80 % of the
quota on, and once it is reached what that means (page views no longer stored, sales still are), with
a link to the usage page."""

from django import template

from trackrev.workspaces.usage import usage_summary

register = template.Library()


@register.inclusion_tag("workspaces/usage_banner.html", takes_context=True)
def usage_banner(context) -> dict:
    workspace = context.get("workspace")
    if workspace is None or not workspace.pk:
        return {"usage": None}
    usage = usage_summary(workspace=workspace)
    return {"usage": usage if usage.near or usage.reached else None}
