from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.models.connections import ProcessorConnection
from trackrev.workspaces.models import Workspace


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """The inbox: one verified delivery, stored raw before any processing so it can be replayed."""

    # Written on every acknowledgement, so no index it does not need: rows go with their connection,
    # which goes with its workspace, and the unique (connection, delivery id) index serves lookups by
    # connection.
    workspace = models.ForeignKey(Workspace, on_delete=models.DO_NOTHING, db_index=False, related_name="+")
    connection = models.ForeignKey(
        ProcessorConnection, on_delete=models.CASCADE, db_index=False, related_name="webhook_events"
    )
    processor = models.CharField(max_length=16)
    delivery_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A failure that may heal (a deadlock, a lost connection) is processed again from then on; none
    # for a delivery that stopped (a payload we cannot read, or too many attempts).
    retry_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "delivery_id"], name="webhookevent_unique_delivery"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhookevent_status_idx"),
            models.Index(fields=["connection", "-received_at"], name="webhookevent_recent_idx"),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.processor} {self.event_type} {self.delivery_id}"
