"""Per-workspace channel rules, evaluated before the defaults (attribution/channels/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from trackrev.workspaces.models import Workspace


class RuleField(models.TextChoices):
    SOURCE = "source", _("Source (utm_source)")
    MEDIUM = "medium", _("Medium (utm_medium)")
    CAMPAIGN = "campaign", _("Campaign (utm_campaign)")
    REFERRER_DOMAIN = "referrer_domain", _("Referrer domain")


class RuleOperator(models.TextChoices):
    EQUALS = "equals", _("equals")
    CONTAINS = "contains", _("contains")
    REGEX = "regex", _("matches regex")


class ChannelRule(models.Model):
    """`<field> <operator> <value>` → channel and group. Case-insensitive; lowest position first."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channel_rules")
    position = models.PositiveIntegerField(default=0)
    field = models.CharField(max_length=20, choices=RuleField.choices)
    operator = models.CharField(max_length=10, choices=RuleOperator.choices, default=RuleOperator.EQUALS)
    value = models.CharField(max_length=200)
    channel = models.CharField(max_length=100)
    channel_group = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["workspace", "position"], name="channelrule_ws_position")]

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value!r} → {self.channel} / {self.channel_group}"
