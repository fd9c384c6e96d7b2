from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.processors.registry import processor_choices
from integrations.validators import api_base_url_validate, connection_options_validate
from trackrev.common.crypto import EncryptedTextField
from trackrev.workspaces.models import Workspace


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")


class ProcessorConnection(models.Model):
    """One processor account of a workspace. Its webhook URL is /webhooks/{processor}/{workspace}."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connections")
    processor = models.CharField(max_length=16, choices=processor_choices)
    status = models.CharField(max_length=12, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    api_token = EncryptedTextField()
    webhook_secret = EncryptedTextField()
    api_base_url = models.URLField(max_length=300)
    options = models.JSONField(default=dict, blank=True)
    backfill_days = models.PositiveSmallIntegerField(default=90)
    # The `seed_demo` workspace's: sample data with no processor account behind it, so nothing ever
    # calls a processor for it (reconcile skips it, a sync or a test says so).
    is_demo = models.BooleanField(default=False, editable=False)
    # Reconcile watermark: everything changed before it has been read from the processor's API.
    reconciled_through = models.DateTimeField(null=True, blank=True)
    # Lease held by the one reconcile run allowed per connection (works on SQLite and PostgreSQL).
    sync_locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "processor"], name="connection_unique_processor"),
        ]
        ordering = ["workspace", "processor"]

    def __str__(self) -> str:
        return f"{self.get_processor_display()} · {self.workspace.name}"

    def clean(self):
        errors = {}
        try:
            api_base_url_validate(processor=self.processor, url=self.api_base_url)
        except ValidationError as error:
            errors["api_base_url"] = error
        try:
            self.options = connection_options_validate(processor=self.processor, options=self.options)
        except ValidationError as error:
            errors["options"] = error
        if errors:
            raise ValidationError(errors)


class SyncRunKind(models.TextChoices):
    RECONCILE = "reconcile", _("Reconcile")
    BACKFILL = "backfill", _("Backfill")


class SyncRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (another run was in progress)")


class SyncRun(models.Model):
    """One reconcile (or initial backfill) of a connection: window, progress and what it found."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ProcessorConnection, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=10, choices=SyncRunKind.choices, default=SyncRunKind.RECONCILE)
    status = models.CharField(max_length=10, choices=SyncRunStatus.choices, default=SyncRunStatus.QUEUED)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    progress = models.CharField(max_length=120, blank=True, help_text=_("Where the run is, e.g. orders page 3 of 12."))
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    missed_by_webhook = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["connection", "-queued_at"], name="syncrun_connection_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
