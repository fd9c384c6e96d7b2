"""The back office's overview (`/admin/overview/`, staff only): the figures staff look at first, each
linking to the admin list behind it. Each app's admin.py adds its own sections with `overview_section`,
so this core module never imports the apps above it."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin
from django.template.response import TemplateResponse


@dataclass(frozen=True)
class OverviewLine:
    label: str
    count: int | None = None
    note: str = ""
    url: str = ""


@dataclass(frozen=True)
class OverviewSection:
    title: str
    lines: list[OverviewLine] = field(default_factory=list)
    url: str = ""  # the admin list behind the section
    empty: str = "Nothing here."


# The overview's sections, in the order the apps' admin modules register them (INSTALLED_APPS' order):
#   trackrev.workspaces: workspaces by plan, events this month
#   trackrev.outbox: outbox backlog
#   integrations: failing connections, stuck inbox deliveries
#   → "Failed outbound deliveries" joins here from the outbound webhooks' admin.py (issue 15, item 1).
OVERVIEW_SECTIONS: list[Callable[[], OverviewSection]] = []


def overview_section(build: Callable[[], OverviewSection]) -> Callable[[], OverviewSection]:
    """Register a function returning one section of the overview (read at each request)."""
    OVERVIEW_SECTIONS.append(build)
    return build


def _overview(request):
    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "sections": [build() for build in OVERVIEW_SECTIONS],
    }
    return TemplateResponse(request, "admin/overview.html", context)


# The admin's own guard: staff only (others go to the admin's login), never cached.
overview = admin.site.admin_view(_overview)
