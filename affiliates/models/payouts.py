"""Payouts: one per partner and month, sent in batches per program and method."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from affiliates.models.partners import Partner, PayoutMethod
from affiliates.models.programs import Program
from trackrev.common.crypto import EncryptedTextField
from trackrev.workspaces.models import Workspace


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # created; manual ones wait to be marked paid
    PROCESSING = "processing", _("Processing")  # sent; waiting for the processor's final word
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")  # retriable


class PayoutSettings(models.Model):
    """How a workspace pays its partners through PayPal (its own business account)."""

    class Mode(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox")
        LIVE = "live", _("Live")

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    paypal_client_id = models.CharField(max_length=200, blank=True)
    paypal_client_secret = EncryptedTextField(blank=True)
    paypal_mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.LIVE)
    # The workspace as a customer of the operator's Stripe account (the Stripe invoice method).
    stripe_customer_id = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"Payout settings of {self.workspace_id}"


class PayoutBatch(models.Model):
    """One program's payouts of one month through one method: a PayPal batch, a Stripe invoice and its
    transfers, or a CSV for manual transfer."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="payout_batches")
    period = models.DateField(help_text=_("The first day of the month paid for."))
    method = models.CharField(max_length=8, choices=PayoutMethod.choices)
    status = models.CharField(max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    reference = models.CharField(max_length=100, blank=True)  # PayPal batch id or Stripe invoice id
    reference_url = models.URLField(max_length=500, blank=True)  # e.g. Stripe's hosted invoice page
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["program", "period", "method"], name="payout_batch_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.period:%Y-%m} · {self.method}"


class Payout(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(PayoutBatch, on_delete=models.CASCADE, related_name="payouts")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="payouts")
    period = models.DateField()
    method = models.CharField(max_length=8, choices=PayoutMethod.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    reference = models.CharField(max_length=100, blank=True)  # PayPal payout item id or Stripe transfer id
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "partner__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["partner", "period"], name="payout_one_per_partner_month")]

    def __str__(self) -> str:
        return f"{self.partner} · {self.period:%Y-%m} · {self.amount_minor} {self.currency}"
