"""A workspace's affiliate programs: what a referral pays, for how long, and when it may be paid."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from trackrev.common.ids import public_id
from trackrev.workspaces.models import Workspace


class CommissionType(models.TextChoices):
    PERCENT = "percent", _("Percent of net revenue")
    FLAT = "flat", _("Flat amount per order")


class Recurring(models.TextChoices):
    ONE_TIME = "one_time", _("The customer's first order only")
    MONTHS = "months", _("Orders within N months of the first")
    LIFETIME = "lifetime", _("Every order, for the customer's lifetime")


def _program_public_id() -> str:
    return public_id("prg_")


class Program(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=32, unique=True, default=_program_public_id, editable=False)
    name = models.CharField(max_length=120)
    commission_type = models.CharField(max_length=8, choices=CommissionType.choices, default=CommissionType.PERCENT)
    # Percent: 20 means 20 % of the order's net revenue. Flat: an amount in the program's currency.
    commission_value = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    recurring = models.CharField(max_length=10, choices=Recurring.choices, default=Recurring.LIFETIME)
    recurring_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    cookie_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    hold_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("Days a commission waits before approval: at least your refund window."),
    )
    minimum_payout_minor = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    destination_url = models.URLField(max_length=500, help_text=_("Where a partner link lands."))
    applications_open = models.BooleanField(default=False, help_text=_("Show a public application page."))
    terms = models.TextField(blank=True)
    reverse_on_cancel = models.BooleanField(
        default=True,
        help_text=_("A subscription canceled inside the hold period reverses its latest commission."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
