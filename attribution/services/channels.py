"""Writes for channel rules, and the job that re-applies the rules to stored touches."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from attribution.channels import Landing, classify
from attribution.channels import sites as default_sites
from attribution.channels.rules import rule_predicate
from attribution.models import ChannelRule, RuleField, RuleOperator, Touch
from attribution.selectors.pixel import pixel_site_forget, pixel_site_load
from trackrev.common.errors import ApplicationError
from trackrev.outbox.services import notifications_enqueue, notifications_relay
from trackrev.workspaces.models import Workspace

RECLASSIFY_BATCH = 2000
RECLASSIFY_TASK = "attribution.touches_reclassify"
CHANNEL_GROUPS = default_sites.GROUPS


def channel_rule_validate(*, field: str, operator: str, value: str, channel: str, channel_group: str) -> None:
    if field not in RuleField.values:
        raise ApplicationError("Choose what the rule matches on.")
    if operator not in RuleOperator.values:
        raise ApplicationError("Choose how the rule compares.")
    if not value.strip():
        raise ApplicationError("Give the value to match.")
    if rule_predicate(operator, value) is None:
        raise ApplicationError("That regular expression is not valid.")
    if not channel.strip():
        raise ApplicationError("Name the channel the rule assigns.")
    if channel_group not in CHANNEL_GROUPS:
        raise ApplicationError("Choose one of the channel groups.")


def _rules_changed(workspace: Workspace) -> None:
    """After commit: every process forgets the compiled rules (this one at once, the others within
    the pixel's cache TTL), and history is re-labelled in the background (several changes in a row
    share one re-labelling, and one that lands while it runs gets another)."""
    public_id = workspace.public_id
    transaction.on_commit(lambda: pixel_site_forget(public_id=public_id))
    notifications_enqueue(tasks=[RECLASSIFY_TASK], subject_ids=[workspace.pk])


@transaction.atomic
def channel_rule_create(
    *, workspace: Workspace, field: str, operator: str, value: str, channel: str, channel_group: str
) -> ChannelRule:
    channel_rule_validate(field=field, operator=operator, value=value, channel=channel, channel_group=channel_group)
    last = ChannelRule.objects.filter(workspace=workspace).aggregate(last=Max("position"))["last"]
    rule = ChannelRule.objects.create(
        workspace=workspace,
        position=0 if last is None else last + 1,
        field=field,
        operator=operator,
        value=value.strip()[:200],
        channel=channel.strip()[:100],
        channel_group=channel_group,
    )
    _rules_changed(workspace)
    return rule


@transaction.atomic
def channel_rule_delete(*, rule: ChannelRule) -> None:
    workspace = rule.workspace
    rule.delete()
    _rules_changed(workspace)


def touch_landing(touch: Touch) -> Landing:
    """The raw inputs of a stored touch. It was a landing, so a bare visit reads as a session start."""
    return Landing.from_url(touch.landing_url, referrer=touch.referrer, session_start=True)


def touches_reclassify(*, workspace_id: int) -> int:
    """Re-derive channel, group and campaign of every touch of the workspace from its raw inputs
    with the current rules; returns how many touches changed. Idempotent; batches by id."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    site = pixel_site_load(workspace=workspace)
    partners = site.partner_name
    changed, after = 0, 0
    while True:
        batch = list(Touch.objects.filter(workspace_id=workspace_id, pk__gt=after).order_by("pk")[:RECLASSIFY_BATCH])
        if not batch:
            break
        after = batch[-1].pk
        updated = []
        for touch in batch:
            labels = classify(
                touch_landing(touch), own_domains=site.allowed_domains, rules=site.rules, partner_name=partners
            )
            if labels is None:
                continue  # now internal by the workspace's domains: keep the touch as it was labelled
            new = (labels.channel[:100], labels.channel_group[:40], labels.campaign)
            if new != (touch.channel, touch.channel_group, touch.campaign):
                touch.channel, touch.channel_group, touch.campaign = new
                updated.append(touch)
        if updated:
            # Each re-labelled batch commits with the notification it owes, so a worker lost midway
            # still leaves it for the sweeper; it is handed to the broker once, after the last batch.
            with transaction.atomic():
                Touch.objects.bulk_update(updated, ["channel", "channel_group", "campaign"])
                owed = notifications_enqueue(
                    tasks=settings.CHANNEL_RULES_CONSUMERS, subject_ids=[workspace_id], relay=False
                )
            changed += len(updated)
    if changed:
        notifications_relay(owed)
    return changed
