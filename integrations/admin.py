from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import models

from integrations.models import (
    Customer,
    ExchangeRate,
    Order,
    ProcessorConnection,
    Refund,
    Subscription,
    SyncRun,
    WebhookEvent,
)
from integrations.selectors import subscription_visitors_of
from integrations.services.webhooks import webhook_event_reprocess
from trackrev.common.admin import ReadOnlyAdmin
from trackrev.common.money import money_display


@admin.register(ProcessorConnection)
class ProcessorConnectionAdmin(admin.ModelAdmin):
    # The encrypted token and webhook secret are never rendered.
    fields = [
        "workspace",
        "processor",
        "status",
        "is_demo",
        "api_base_url",
        "options",
        "backfill_days",
        "reconciled_through",
    ]
    readonly_fields = ["workspace", "processor", "is_demo", "reconciled_through"]
    list_display = ["workspace", "processor", "status", "is_demo", "reconciled_through", "created_at"]
    list_filter = ["processor", "status", "is_demo"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request):
        return False  # connections are created with their secrets through the page or the API


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "processor", "event_type", "status", "attempts", "connection", "delivery_id"]
    list_filter = ["status", "processor", "event_type"]
    search_fields = ["delivery_id", "event_type"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Reprocess the selected deliveries")
    def reprocess(self, request, queryset):
        busy = sum(not webhook_event_reprocess(event=event) for event in queryset)
        message = f"Queued {queryset.count()} deliveries for processing."
        if busy:
            message += f" {busy} of them are being processed right now: they are processed again once done."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["placed_at", "processor", "external_id", "kind", "status", "amount", "refunded", "matched_by"]
    list_filter = ["processor", "kind", "status", "matched_by", "first_seen_via", "currency"]
    search_fields = ["external_id", "visitor_id"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money_display(obj.amount_minor, obj.currency)

    @admin.display(description="Refunded")
    def refunded(self, obj):
        return money_display(obj.refunded_minor, obj.currency) if obj.refunded_minor else "—"


class SubscriptionChangeList(ChangeList):
    def get_results(self, request):
        """The page's visitors in one read, not two queries per row."""
        super().get_results(request)
        visitors = subscription_visitors_of(subscriptions=self.result_list)
        for subscription in self.result_list:
            subscription.bound_visitor = visitors[subscription.pk]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "processor", "status", "current_period_end", "cancel_at_period_end", "visitor"]
    list_filter = ["processor", "status"]
    search_fields = ["external_id"]
    readonly_fields = ["visitor"]

    def get_changelist(self, request, **kwargs):
        return SubscriptionChangeList

    @admin.display(description="Visitor")
    def visitor(self, obj):
        if not hasattr(obj, "bound_visitor"):  # the view of one subscription
            obj.bound_visitor = subscription_visitors_of(subscriptions=[obj])[obj.pk]
        return obj.bound_visitor or "—"


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refunded_at", "external_id", "order_external_id", "status", "amount"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money_display(obj.amount_minor, obj.currency)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "connection", "visitor_id"]
    search_fields = ["external_id"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["queued_at", "connection", "kind", "status", "fetched", "created", "updated", "missed_by_webhook"]
    list_filter = ["kind", "status"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["date", "currency", "rate"]
    list_filter = ["currency"]
    date_hierarchy = "date"
