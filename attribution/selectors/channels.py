"""Reads for the channel-rules page: the rules, and what a draft rule would change."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from attribution.channels import classify, compile_rules
from attribution.models import ChannelRule, Touch
from attribution.selectors.pixel import pixel_site_load
from attribution.services.channels import touch_landing
from trackrev.workspaces.models import Workspace

PREVIEW_DAYS = 30
PREVIEW_LIMIT = 50_000


@dataclass(frozen=True)
class PreviewRow:
    from_channel: str
    from_group: str
    to_channel: str
    to_group: str
    touches: int


@dataclass(frozen=True)
class Preview:
    scanned: int
    changed: int
    rows: list[PreviewRow]
    truncated: bool


def channel_rule_list(*, workspace: Workspace) -> QuerySet[ChannelRule]:
    return ChannelRule.objects.filter(workspace=workspace).order_by("position", "id")


def channel_rules_preview(*, workspace: Workspace, draft, now: dt.datetime | None = None) -> Preview:
    """Touches of the last 30 days whose labels the draft rule (appended after the existing rules)
    would change, grouped by old → new labels."""
    site = pixel_site_load(workspace=workspace)
    rules = site.rules + compile_rules([draft])
    partners = site.partner_name
    since = (now or timezone.now()) - dt.timedelta(days=PREVIEW_DAYS)
    touches = Touch.objects.filter(workspace=workspace, occurred_at__gte=since).order_by("-occurred_at")
    counts: Counter = Counter()
    scanned = 0
    for touch in touches[:PREVIEW_LIMIT].iterator(chunk_size=2000):
        scanned += 1
        labels = classify(touch_landing(touch), own_domains=site.allowed_domains, rules=rules, partner_name=partners)
        if labels and (labels.channel, labels.channel_group) != (touch.channel, touch.channel_group):
            counts[(touch.channel, touch.channel_group, labels.channel, labels.channel_group)] += 1
    rows = [PreviewRow(*key, touches=n) for key, n in counts.most_common()]
    return Preview(scanned=scanned, changed=sum(counts.values()), rows=rows, truncated=scanned >= PREVIEW_LIMIT)
