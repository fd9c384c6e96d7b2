"""Affiliate rows for staff: looked at, never edited by hand (each is derived or decided through the
services), and changed only through actions that call those services."""

from django.contrib import admin
from django.db import models

from affiliates.models import (
    Click,
    Commission,
    DiscountCode,
    Link,
    Partner,
    PartnerAccount,
    PartnerStatus,
    Payout,
    PayoutBatch,
    PayoutSettings,
    Program,
    Review,
)
from affiliates.services.commissions import commission_review
from affiliates.services.partners import partner_set_status
from affiliates.services.payout_sending import payout_batch_retry
from affiliates.services.payouts import payout_mark_paid
from trackrev.common.admin import ReadOnlyAdmin, ServiceActionsMixin, service_action
from trackrev.common.money import money_display


class AffiliateAdmin(ServiceActionsMixin, ReadOnlyAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # its read-only forms are still built


def _money(obj) -> str:
    return money_display(obj.amount_minor, obj.currency)


@admin.register(Program)
class ProgramAdmin(AffiliateAdmin):
    list_display = ["name", "workspace", "commission_type", "commission_value", "recurring", "currency"]
    list_display += ["applications_open", "created_at"]
    list_filter = ["commission_type", "recurring", "applications_open", "currency"]
    search_fields = ["name", "public_id"]
    list_select_related = ["workspace"]


@admin.register(PartnerAccount)
class PartnerAccountAdmin(AffiliateAdmin):
    fields = ["email", "name", "last_login", "created_at"]  # never the password hash
    list_display = ["email", "name", "last_login", "created_at"]
    search_fields = ["email", "name"]


def _partner_action(status: str, done: str):
    def change(modeladmin, partner):
        partner_set_status(partner=partner, status=status)

    change.__name__ = f"partner_{status}"
    return service_action(description=f"{done} the selected partners", done=done)(change)


@admin.register(Partner)
class PartnerAdmin(AffiliateAdmin):
    list_display = ["name", "email", "code", "program", "status", "payout_method", "created_at", "decided_at"]
    list_filter = ["status", "payout_method"]
    search_fields = ["name", "email", "code", "public_id"]
    list_select_related = ["program"]
    readonly_fields = ["payout_details"]
    actions = [
        _partner_action(PartnerStatus.APPROVED, "Approve"),
        _partner_action(PartnerStatus.REJECTED, "Reject"),
        _partner_action(PartnerStatus.SUSPENDED, "Suspend"),
    ]


@admin.register(Link)
class LinkAdmin(AffiliateAdmin):
    list_display = ["partner", "slug", "url", "created_at"]
    search_fields = ["slug", "partner__code"]
    list_select_related = ["partner"]


@admin.register(DiscountCode)
class DiscountCodeAdmin(AffiliateAdmin):
    list_display = ["code", "partner", "workspace", "created_at"]
    search_fields = ["code", "partner__code"]
    list_select_related = ["partner", "workspace"]


@admin.register(Click)
class ClickAdmin(AffiliateAdmin):
    list_display = ["occurred_at", "partner", "link_slug", "referrer"]
    search_fields = ["partner__code", "link_slug"]
    list_select_related = ["partner"]
    date_hierarchy = "occurred_at"


def _review_action(review: str, done: str):
    def change(modeladmin, commission):
        commission_review(commission=commission, review=review)

    change.__name__ = f"review_{review}"
    return service_action(description=f"{done} the selected commissions", done=done)(change)


@admin.register(Commission)
class CommissionAdmin(AffiliateAdmin):
    list_display = ["created_at", "partner", "order", "kind", "status", "amount", "review", "reason", "payout"]
    list_filter = ["status", "kind", "review", "referred_by"]
    search_fields = ["order__external_id", "partner__name", "partner__code"]
    list_select_related = ["partner", "order", "payout__partner"]
    date_hierarchy = "created_at"
    raw_id_fields = ["order", "payout"]
    actions = [
        _review_action(Review.HELD, "Hold"),
        _review_action(Review.RELEASED, "Release"),
        _review_action(Review.APPROVED_EARLY, "Approve early"),
        _review_action(Review.REJECTED, "Reject"),
    ]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return _money(obj)


@admin.register(PayoutSettings)
class PayoutSettingsAdmin(AffiliateAdmin):
    fields = ["workspace", "paypal_client_id", "paypal_mode", "stripe_customer_id"]  # never the PayPal secret
    list_display = ["workspace", "paypal_client_id", "paypal_mode", "stripe_customer_id"]
    list_filter = ["paypal_mode"]
    list_select_related = ["workspace"]


@admin.register(PayoutBatch)
class PayoutBatchAdmin(AffiliateAdmin):
    list_display = ["period", "program", "method", "status", "reference", "attempts", "error", "updated_at"]
    list_filter = ["method", "status", "period"]
    search_fields = ["reference", "program__name"]
    list_select_related = ["program"]
    actions = ["send_again"]

    @service_action(description="Send the failed payouts of the selected batches again", done="Send again")
    def send_again(self, batch):
        payout_batch_retry(batch=batch)


@admin.register(Payout)
class PayoutAdmin(AffiliateAdmin):
    list_display = ["period", "partner", "method", "amount", "status", "reference", "error", "paid_at"]
    list_filter = ["method", "status", "period"]
    search_fields = ["reference", "partner__name", "partner__code"]
    list_select_related = ["partner"]
    actions = ["mark_paid"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return _money(obj)

    @service_action(description="Mark the selected manual payouts paid", done="Mark paid")
    def mark_paid(self, payout):
        payout_mark_paid(payout=payout)
