"""`{% pixel_setup %}`: the Integrations page's "Step 1 · paste the pixel" block for the current
workspace (snippet, cookie-domain explanation, last hit received, hits not counted lately and what
to do about each reason, and first-party proxy mode: its secret, which way recent hits came, who keeps
the cookie of the month's new visitors)."""

import datetime as dt

from django import template
from django.conf import settings
from django.utils import timezone

from attribution.selectors.pixel import (
    COOKIE_WINDOW_DAYS,
    normalize_domain,
    pixel_drops_recent,
    pixel_modes_recent,
    visitor_cookies_recent,
)
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, month_start, usage_last_event_at

register = template.Library()


@register.inclusion_tag("attribution/pixel_setup.html", takes_context=True)
def pixel_setup(context) -> dict:
    workspace = context["workspace"]
    domains = [normalize_domain(str(d)) for d in workspace.allowed_domains or ()]
    cookie_domain = f".{domains[0]}" if domains and domains[0] else ""
    base = settings.TRACKREV_PUBLIC_URL
    domain_attr = f' data-cookie-domain="{cookie_domain}"' if cookie_domain else ""
    snippet = f'<script async src="{base}/p.js" data-workspace="{workspace.public_id}"{domain_attr}></script>'
    return {
        "workspace": workspace,
        "membership": context.get("membership"),
        "snippet": snippet,
        "cookie_domain": cookie_domain,
        "last_hit_at": usage_last_event_at(workspace_id=workspace.pk),
        "drops": pixel_drops_recent(workspace_id=workspace.pk),
        "free_quota": FREE_MONTHLY_EVENTS,
        "next_month": (month_start(timezone.now()) + dt.timedelta(days=31)).replace(day=1),
        "rate_limit": settings.PIXEL_RATE_LIMIT_PER_MINUTE,
        "modes": pixel_modes_recent(workspace_id=workspace.pk),
        "cookies": visitor_cookies_recent(workspace_id=workspace.pk),
        "cookie_window_days": COOKIE_WINDOW_DAYS,
    }
