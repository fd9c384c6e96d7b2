"""Partners, their portal accounts, links, discount codes and clicks."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils.translation import gettext_lazy as _

from affiliates.models.programs import Program
from trackrev.common.ids import public_id
from trackrev.workspaces.models import Workspace


class PartnerAccount(models.Model):
    """A partner's login to the portal (`/partners/`): not a workspace member and never one. One account
    may partner with several programs."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=120)
    password = models.CharField(max_length=128, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)

    # What django.contrib.auth's token generator reads to make a set-password link.
    def get_email_field_name(self) -> str:
        return "email"


class PartnerStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class PayoutMethod(models.TextChoices):
    PAYPAL = "paypal", _("PayPal")
    STRIPE = "stripe", _("Stripe (connected account)")
    MANUAL = "manual", _("Manual transfer")


def _partner_public_id() -> str:
    return public_id("prt_")


class Partner(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="partners")
    account = models.ForeignKey(PartnerAccount, on_delete=models.PROTECT, related_name="partners")
    public_id = models.CharField(max_length=32, unique=True, default=_partner_public_id, editable=False)
    name = models.CharField(max_length=120)
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.PENDING)
    # The partner's `via` code and `/r/{code}`: unique across TrackRev, since the link names no workspace.
    code = models.SlugField(max_length=40, unique=True)
    payout_method = models.CharField(max_length=8, choices=PayoutMethod.choices, default=PayoutMethod.MANUAL)
    # PayPal: {"paypal_email"}; Stripe: {"stripe_account": "acct_…"}; manual: {"instructions"}.
    payout_details = models.JSONField(default=dict, blank=True)
    application_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["program", "account"], name="partner_one_per_program")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Link(models.Model):
    """An extra link of a partner to another page of the customer's site: `/r/{code}/{slug}`."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="links")
    slug = models.SlugField(max_length=40)
    url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [models.UniqueConstraint(fields=["partner", "slug"], name="link_unique_slug")]

    def __str__(self) -> str:
        return f"{self.partner.code}/{self.slug}"


class DiscountCode(models.Model):
    """A discount code (or the processor's discount id) that refers an order to its partner, click or not."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="discount_codes")
    code = models.CharField(max_length=100, help_text=_("Stored lower-case; matched without regard to case."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["workspace", "code"], name="discount_code_unique")]

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One click on a partner link; at most one per client IP, link and hour (the unique bucket)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="clicks")
    link_slug = models.CharField(max_length=40, blank=True)  # "" for the partner's main link
    ip_digest = models.CharField(max_length=64)  # keyed hash: no client IP is stored
    hour = models.DateTimeField()
    occurred_at = models.DateTimeField()
    referrer = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "link_slug", "ip_digest", "hour"], name="click_once_per_hour")
        ]
        indexes = [models.Index(fields=["partner", "occurred_at"], name="click_partner_time")]

    def __str__(self) -> str:
        return f"{self.partner_id} · {self.occurred_at:%Y-%m-%d %H:%M}"
