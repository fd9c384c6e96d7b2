"""Outbound webhooks: a workspace's endpoints, one event per fact (its body signed and sent as stored), one
delivery per endpoint subscribed to it, one attempt row per try."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from trackrev.common.crypto import EncryptedTextField
from trackrev.common.ids import public_id
from trackrev.workspaces.models import Workspace


class EventType(models.TextChoices):
    SALE_CREATED = "sale.created", _("A sale is paid and credited")
    SALE_UPDATED = "sale.updated", _("A sale's credits changed")
    SALE_REFUNDED = "sale.refunded", _("A sale was refunded")
    COMMISSION_CREATED = "commission.created", _("A partner earned a commission")
    COMMISSION_REVERSED = "commission.reversed", _("A commission was reversed")
    PAYOUT_PAID = "payout.paid", _("A partner payout was paid")


# Sent only to the endpoint a person chose on the Webhooks page; no endpoint subscribes to it.
TEST_EVENT = "webhook.test"


class EndpointStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")


def _endpoint_public_id() -> str:
    return public_id("whe_")


def _event_public_id() -> str:
    return public_id("msg_")


class WebhookEndpoint(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints")
    public_id = models.CharField(max_length=32, unique=True, default=_endpoint_public_id, editable=False)
    url = models.URLField(max_length=1000)
    events = models.JSONField(default=list)  # EventType values
    secret = EncryptedTextField()
    # During a rotation the old secret signs too, until `previous_secret_until`.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=EndpointStatus.choices, default=EndpointStatus.ACTIVE)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # The first failed attempt since the last success: an endpoint failing for FAILING_DAYS is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.url


class OutboundEvent(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="outbound_events")
    public_id = models.CharField(max_length=32, unique=True, default=_event_public_id, editable=False)
    type = models.CharField(max_length=32)
    # What the event is about ("order:12"), for the emitter to compare with what it last said.
    subject = models.CharField(max_length=64)
    # The emitter's word that this fact is told once ("sale.created:order:12"), whatever replays it.
    dedupe_key = models.CharField(max_length=120)
    body = models.TextField()  # the JSON sent, byte for byte, on every attempt
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "dedupe_key"], name="outbound_event_unique_dedupe"),
        ]
        indexes = [models.Index(fields=["workspace", "subject", "-created_at"], name="outbound_event_subject")]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due; while one is in flight, when its claim runs out.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_unique_endpoint"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_recent"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # none: no HTTP answer
    duration_ms = models.PositiveIntegerField(default=0)
    excerpt = models.TextField(blank=True)  # the first bytes of the answer (trackrev.common.outbound)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["attempted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
