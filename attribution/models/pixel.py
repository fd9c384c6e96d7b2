"""What the pixel records: visitors (inserted once), touches (append-only landings) and identities.

Touches keep the raw landing inputs next to the derived labels, so channel rules can change and be
re-applied to history (see attribution/channels/).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from trackrev.workspaces.models import Workspace

VISITOR_ID_MAX = 64
URL_MAX = 2048


class BrowserFamily(models.TextChoices):
    SAFARI = "safari", _("Safari and iOS browsers")  # the ones whose script-written cookies ITP caps
    CHROME = "chrome", _("Chrome")
    FIREFOX = "firefox", _("Firefox")
    EDGE = "edge", _("Edge")
    OTHER = "other", _("Other")


class VisitorCookie(models.TextChoices):
    """Who keeps the visitor id: the customer's first-party proxy (an HTTP Set-Cookie: its full life) or
    p.js through document.cookie (Safari: 7 days, 24 hours after a click-id landing)."""

    PROXY = "proxy", _("Through your proxy")
    SCRIPT = "script", _("The script's own cookie")


class Visitor(models.Model):
    """One browser (a `trackrev_vid` cookie). Written once with INSERT … ON CONFLICT DO NOTHING.

    How its first hit arrived (browser family, who keeps the cookie) rides on that one insert: the
    honest numbers of proxy mode cost no write of their own, and count visitors, not hits. Blank for
    visitors first seen before they were recorded, and for imported or demo ones."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=VISITOR_ID_MAX)
    created_at = models.DateTimeField()
    browser = models.CharField(max_length=8, choices=BrowserFamily.choices, blank=True, default="")
    cookie = models.CharField(max_length=8, choices=VisitorCookie.choices, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "visitor_id"], name="visitor_unique_id")]
        indexes = [models.Index(fields=["workspace", "created_at"], name="visitor_ws_created")]

    def __str__(self) -> str:
        return self.visitor_id


class Touch(models.Model):
    """A landing: a session start, or a hit carrying campaign parameters, a click id, a partner
    code or an external referrer. Append-only: never updated per hit."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=VISITOR_ID_MAX)
    occurred_at = models.DateTimeField()
    # Derived (re-computable from the raw inputs below).
    channel = models.CharField(max_length=100)
    channel_group = models.CharField(max_length=40)
    campaign = models.CharField(max_length=200, blank=True)
    # Raw inputs, as they arrived.
    source = models.CharField(max_length=200, blank=True, help_text="utm_source")
    medium = models.CharField(max_length=100, blank=True, help_text="utm_medium")
    term = models.CharField(max_length=200, blank=True, help_text="utm_term")
    content = models.CharField(max_length=200, blank=True, help_text="utm_content")
    referrer = models.CharField(max_length=URL_MAX, blank=True)
    landing_url = models.CharField(max_length=URL_MAX, blank=True)
    click_id_type = models.CharField(max_length=16, blank=True)
    click_id = models.CharField(max_length=255, blank=True)
    partner_code = models.CharField(max_length=64, blank=True, help_text="via / ref parameter")
    # Set when the hit went through the ingest buffer: replaying a batch never duplicates a touch.
    hit_id = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "visitor_id", "occurred_at"], name="touch_ws_visitor_time"),
            models.Index(fields=["workspace", "occurred_at"], name="touch_ws_time"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} · {self.channel} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class IdentitySource(models.TextChoices):
    """Who bound the email, which decides what the binding may do (README, "Who may move credit")."""

    BROWSER = "browser", _("The pixel's identify()")
    SERVER = "server", _("The customer's backend (API)")


class Identity(models.Model):
    """An email bound to a visitor, by the pixel's `trackrev.identify(email)` (anyone's browser can send
    any email: a weak binding) or by the customer's backend through `POST /api/v1/identify/` (behind an
    API key: a verified one). Only the keyed digest is stored (trackrev.common.emails.email_digest)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=VISITOR_ID_MAX)
    email_digest = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=IdentitySource.choices, default=IdentitySource.BROWSER)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "visitor_id", "email_digest", "source"], name="identity_unique_source"
            )
        ]
        indexes = [models.Index(fields=["workspace", "email_digest"], name="identity_ws_digest")]

    def __str__(self) -> str:
        return f"{self.visitor_id} · {self.email_digest[:12]}… ({self.source})"
