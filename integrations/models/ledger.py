"""The normalized ledger. Rows are upserted on (connection, external_id) by integrations.services;
`source_updated_at` is the processor's own timestamp of the state a row holds (newer wins)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.models.connections import ProcessorConnection
from trackrev.workspaces.models import Workspace


class Customer(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ProcessorConnection, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=255)
    email_digest = models.CharField(max_length=64, blank=True)
    # The domain alone, lower case: enough to tell a self-referral from a colleague's address, no address.
    email_domain = models.CharField(max_length=253, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    source_updated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="customer_unique_external")]

    def __str__(self) -> str:
        return self.external_id


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Incomplete, expired")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    PAUSED = "paused", _("Paused")
    CANCELED = "canceled", _("Canceled")
    UNPAID = "unpaid", _("Unpaid")


TERMINAL_SUBSCRIPTION_STATUSES = frozenset(
    {SubscriptionStatus.CANCELED, SubscriptionStatus.UNPAID, SubscriptionStatus.INCOMPLETE_EXPIRED}
)


class Subscription(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ProcessorConnection, on_delete=models.CASCADE, related_name="subscriptions")
    processor = models.CharField(max_length=16)
    external_id = models.CharField(max_length=255)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    source_updated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="subscription_unique_external")
        ]
        indexes = [models.Index(fields=["workspace", "-updated_at"], name="subscription_recent_idx")]
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.processor} subscription {self.external_id} ({self.status})"


class OrderKind(models.TextChoices):
    ONE_TIME = "one_time", _("One-time")
    SUBSCRIPTION_CREATE = "subscription_create", _("New subscription")
    RENEWAL = "renewal", _("Renewal")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    VOID = "void", _("Void")


# Revenue is recognised once the processor says the money was received.
PAID_ORDER_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})


class MatchedBy(models.TextChoices):
    METADATA = "metadata", _("Checkout metadata")
    SUBSCRIPTION = "subscription", _("Subscription's earlier order")
    EMAIL = "email", _("Identified email")
    NONE = "none", _("Not matched")


class FirstSeenVia(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    POLL = "poll", _("Reconcile poll")


class Order(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ProcessorConnection, on_delete=models.CASCADE, related_name="orders")
    processor = models.CharField(max_length=16)
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=OrderKind.choices)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    currency = models.CharField(max_length=3)
    # Net revenue (after discounts, before tax) in the currency's minor units.
    amount_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField(default=0)
    amount_usd_minor = models.BigIntegerField(null=True, blank=True, help_text=_("Null until the FX rate exists."))
    refunded_minor = models.BigIntegerField(default=0)
    refunded_usd_minor = models.BigIntegerField(null=True, blank=True)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    # Our visitor id from the order's own checkout metadata, kept so matching can run again from the
    # stored rows whenever the customer or the subscription changes; `visitor_id` is the match.
    visitor_ref = models.CharField(max_length=64, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    matched_by = models.CharField(max_length=12, choices=MatchedBy.choices, default=MatchedBy.NONE)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # Kept even before the subscription row exists, to link it later and to match renewals.
    subscription_external_id = models.CharField(max_length=255, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    customer_email_digest = models.CharField(max_length=64, blank=True)
    customer_email_domain = models.CharField(max_length=253, blank=True)
    # The codes and ids of the discounts the order used (NormalizedOrder.discount_codes): a partner who owns
    # one is referred the order.
    discount_codes = models.JSONField(default=list, blank=True)
    first_seen_via = models.CharField(max_length=8, choices=FirstSeenVia.choices)
    source_updated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="order_unique_external")]
        indexes = [
            models.Index(fields=["workspace", "-placed_at"], name="order_placed_idx"),
            models.Index(fields=["currency", "amount_usd_minor"], name="order_fx_pending_idx"),
            models.Index(fields=["connection", "subscription_external_id"], name="order_subscription_idx"),
            # A renewal's first order (attribution credits renewals with it), found without reading renewals.
            models.Index(
                fields=["subscription"], condition=~models.Q(kind="renewal"), name="order_subscription_first_idx"
            ),
        ]
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.processor} order {self.external_id}"

    @property
    def is_paid(self) -> bool:
        return self.status in PAID_ORDER_STATUSES


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


class Refund(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ProcessorConnection, on_delete=models.CASCADE, related_name="refunds")
    external_id = models.CharField(max_length=255)
    # Refund events may arrive before their order: the order is linked once it exists.
    order_external_id = models.CharField(max_length=255)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="refunds")
    status = models.CharField(max_length=10, choices=RefundStatus.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    refunded_at = models.DateTimeField()
    source_updated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="refund_unique_external")]
        ordering = ["-refunded_at", "-id"]

    def __str__(self) -> str:
        return f"refund {self.external_id}"
