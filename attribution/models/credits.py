"""What the engine stores: credits per order per model, the daily rollups that reports read, the
per-day visitor sets that keep distinct-visitor counts exact, and workspace-wide recompute runs.

Credits and rollups carry a `version`: a workspace-wide recompute writes the next version beside the
one being served and switches `AttributionState.version` when it is complete, so readers never see
half-recomputed numbers.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.models import Order
from trackrev.workspaces.models import AttributionModel, Workspace


class AttributionState(models.Model):
    """Per workspace: the credit version being served and how far touches are folded into visitor sets."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)
    # Touch ids ≤ this are in VisitorSetDay; reports add the (small) tail of newer touches on the fly.
    touches_through = models.BigIntegerField(default=0)
    # The newest touch id at the previous fold: the next fold stops there, so a touch whose insert
    # was still uncommitted (ids are not committed in order) is never skipped.
    touches_seen = models.BigIntegerField(default=0)
    # Identity ids ≤ this have been applied to the orders they concern (identify() after a purchase).
    identities_through = models.BigIntegerField(default=0)
    # The settings the served version's credits were computed with (attribution/params.py).
    lookback_days = models.PositiveSmallIntegerField()
    timezone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.workspace_id} v{self.version}"


class Credit(models.Model):
    """One channel's share of one order under one model (weights of an order sum to 1 per model)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="credits")
    version = models.PositiveIntegerField()
    model = models.CharField(max_length=20, choices=AttributionModel.choices)
    channel = models.CharField(max_length=100)
    channel_group = models.CharField(max_length=40)
    campaign = models.CharField(max_length=200, blank=True)
    weight = models.PositiveIntegerField(help_text=_("Millionths of the order."))
    revenue_usd_minor = models.BigIntegerField()
    revenue_minor = models.BigIntegerField(help_text=_("In the order's own currency."))
    currency = models.CharField(max_length=3)
    processor = models.CharField(max_length=16)
    day = models.DateField(help_text=_("The order's date in the workspace's time zone."))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "version", "model", "channel", "channel_group", "campaign"], name="credit_unique"
            )
        ]
        indexes = [models.Index(fields=["workspace", "version", "model", "day"], name="credit_ws_day")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.model} {self.channel} {self.weight}"


ROLLUP_KEY = ("day", "processor", "currency", "channel", "channel_group", "campaign")


class DailyRollup(models.Model):
    """Credits summed per day, channel, group, campaign, processor, currency, model."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    model = models.CharField(max_length=20, choices=AttributionModel.choices)
    day = models.DateField()
    processor = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    channel = models.CharField(max_length=100)
    channel_group = models.CharField(max_length=40)
    campaign = models.CharField(max_length=200, blank=True)
    revenue_usd_minor = models.BigIntegerField(default=0)
    revenue_minor = models.BigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0, help_text=_("Millionths of orders."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "version", "model", *ROLLUP_KEY], name="rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.channel} {self.revenue_usd_minor}"


TOTAL_KEY = ("day", "processor", "currency")


class DailyTotal(models.Model):
    """Revenue and orders per day, processor and currency. The same in every model (each model credits
    all of an order), so the daily revenue report and native totals read this far smaller table."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    day = models.DateField()
    processor = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    revenue_usd_minor = models.BigIntegerField(default=0)
    revenue_minor = models.BigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0, help_text=_("Millionths of orders."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "version", *TOTAL_KEY], name="dailytotal_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.processor} {self.revenue_usd_minor}"


class VisitorSetDay(models.Model):
    """The visitors (Visitor ids, as a serialized Roaring bitmap) that touched a channel on a day, so
    distinct visitors over any date range are an exact union of a few small sets."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=100)
    channel_group = models.CharField(max_length=40)
    campaign = models.CharField(max_length=200, blank=True)
    visitors = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "channel", "channel_group", "campaign"], name="visitorset_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel}"


class RecomputeStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    SUPERSEDED = "superseded", _("Replaced by a newer recompute")
    FAILED = "failed", _("Failed")


class RecomputeRun(models.Model):
    """A workspace-wide recompute into `version`; the old version is served until it succeeds."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=RecomputeStatus.choices, default=RecomputeStatus.QUEUED)
    # The settings this version is computed with (attribution/params.py).
    lookback_days = models.PositiveSmallIntegerField()
    timezone = models.CharField(max_length=64)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    last_order_id = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "version"], name="recompute_unique_version")]

    def __str__(self) -> str:
        return f"recompute v{self.version} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class OrderAttribution(models.Model):
    """What ATTRIBUTION_CONSUMERS are told about: an order's visitor match and served credits, as last
    notified. `revision` grows by one at each change, so a consumer can ignore a state older than one
    it already applied."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField(default=0)
    visitor_id = models.CharField(max_length=64, blank=True)
    matched_by = models.CharField(max_length=12)
    # False when the credited journey's buyer was found only through an email that a browser bound
    # (identify() in the pixel): anyone can send that, so nothing may be paid on it (affiliates).
    match_verified = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.order_id} r{self.revision}"
