import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trackrev.common.ids import public_id

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with email and password."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email


class Plan(models.TextChoices):
    FREE = "free", _("Free")
    PRO = "pro", _("Pro")


class AttributionModel(models.TextChoices):
    LAST_TOUCH = "last_touch", _("Last touch")
    FIRST_TOUCH = "first_touch", _("First touch")
    LINEAR = "linear", _("Linear")
    POSITION_BASED = "position_based", _("Position based (40/20/40)")
    TIME_DECAY = "time_decay", _("Time decay (7-day half-life)")


class LookbackDays(models.IntegerChoices):
    WEEK = 7, _("7 days")
    MONTH = 30, _("30 days")
    TWO_MONTHS = 60, _("60 days")
    QUARTER = 90, _("90 days")


def _workspace_public_id() -> str:
    return public_id("ws_")


def pixel_proxy_secret_new() -> str:
    """The shared secret a customer's first-party proxy sends as `X-TrackRev-Proxy` (README, "First-party
    proxy mode"): part of their proxy's config, shown to members; not an API credential."""
    return public_id("tps_", 32)


class Workspace(models.Model):
    """The tenant: every domain row belongs to one."""

    public_id = models.CharField(max_length=32, unique=True, default=_workspace_public_id, editable=False)
    name = models.CharField(_("name"), max_length=120)
    plan = models.CharField(max_length=8, choices=Plan.choices, default=Plan.FREE)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    reporting_currency = models.CharField(max_length=3, default="USD", editable=False)
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Site domains allowed to send pixel hits (subdomains included). Empty: any."),
    )
    attribution_model = models.CharField(
        max_length=20, choices=AttributionModel.choices, default=AttributionModel.LAST_TOUCH
    )
    lookback_days = models.PositiveSmallIntegerField(choices=LookbackDays.choices, default=LookbackDays.MONTH)
    pixel_proxy_secret = models.CharField(
        max_length=40,
        default=pixel_proxy_secret_new,
        editable=False,
        help_text=_("Sent by the customer's proxy as X-TrackRev-Proxy: its forwarded client IP and host are trusted."),
    )
    # TrackRev's own billing of this workspace (trackrev/workspaces/billing/): who pays for Pro.
    billing_customer_id = models.CharField(max_length=255, blank=True, default="")
    billing_subscription_id = models.CharField(max_length=255, blank=True, default="")
    billing_event_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the billing event that last set the plan happened.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")]
        ordering = ["workspace", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace.name} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class ApiKey(models.Model):
    """A workspace API key. Only a SHA-256 digest is stored; the key itself is shown once."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, help_text=_("First characters, to recognise the key."))
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UsageMonth(models.Model):
    """Events (page views and new processor orders) counted for a workspace in one calendar month (UTC).
    They are counted in the cache; a periodic job copies the totals here (trackrev/workspaces/usage.py)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="usage_months")
    month = models.DateField(help_text=_("First day of the month."))
    events = models.BigIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "month"], name="usagemonth_unique_month")]
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.month:%Y-%m}: {self.events}"


class UsageDay(models.Model):
    """A day's share of the month's events (UTC), for the usage page's chart: each flush adds what the
    month's total grew by since the previous flush to the day it runs (trackrev/workspaces/usage.py)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day"], name="usageday_unique_day")]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.day}: {self.events}"
