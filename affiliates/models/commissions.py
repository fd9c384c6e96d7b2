"""Commissions: what an order earns its partner, derived from the order's current state."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from affiliates.models.partners import Partner
from affiliates.models.programs import Program
from integrations.models import Order
from trackrev.workspaces.models import Workspace


class CommissionKind(models.TextChoices):
    SALE = "sale", _("Sale")
    CLAWBACK = "clawback", _("Clawback")  # a refund after payout, deducted from the next payout


class CommissionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    REVERSED = "reversed", _("Reversed")
    HELD = "held", _("Held")


class Review(models.TextChoices):
    """A person's decision on a commission, which recomputing never overrides."""

    NONE = "", _("None")
    RELEASED = "released", _("Released from hold")
    REJECTED = "rejected", _("Rejected")
    APPROVED_EARLY = "approved_early", _("Approved before the hold ended")
    HELD = "held", _("Held by hand")


class Commission(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="commissions")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="commissions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=CommissionKind.choices, default=CommissionKind.SALE)
    status = models.CharField(max_length=8, choices=CommissionStatus.choices)
    reason = models.CharField(max_length=200, blank=True)
    review = models.CharField(max_length=16, choices=Review.choices, blank=True, default=Review.NONE)
    currency = models.CharField(max_length=3)  # the program's
    # What the order earned before refunds, and what it earns now (negative for a clawback).
    full_minor = models.BigIntegerField()
    amount_minor = models.BigIntegerField()
    # Referred through a partner touch ("link") or a discount code the first order used ("code").
    referred_by = models.CharField(max_length=8)
    hold_until = models.DateTimeField()
    payout = models.ForeignKey(
        "affiliates.Payout", null=True, blank=True, on_delete=models.SET_NULL, related_name="commissions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Duplicate deliveries and reconciles never make a second commission for an order.
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(kind=CommissionKind.SALE), name="commission_one_sale_per_order"
            ),
            # At most one clawback waiting for a payout per order: a later refund grows it.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(kind=CommissionKind.CLAWBACK, payout__isnull=True),
                name="commission_one_open_clawback",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status"], name="commission_ws_status"),
            models.Index(fields=["partner", "status"], name="commission_partner_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} · {self.status}"
