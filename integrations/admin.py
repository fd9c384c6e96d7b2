"""The integrations' rows for staff: connections (resync), the webhook inbox (reprocess, raw bodies
read-only), the ledger, sync runs, FX rates and outbound webhooks (resend); and their part of the overview."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    ConnectionStatus,
    Customer,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EndpointStatus,
    ExchangeRate,
    Order,
    OutboundEvent,
    ProcessorConnection,
    Refund,
    Subscription,
    SyncRun,
    SyncRunKind,
    SyncRunStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventStatus,
)
from integrations.selectors import subscription_visitors_of
from integrations.services import outbound_webhooks
from integrations.services.reconcile import sync_run_request
from integrations.services.webhooks import STUCK_AFTER, webhook_event_reprocess
from trackrev.admin_site import OverviewLine, OverviewSection, overview_section
from trackrev.common.admin import (
    ReadOnlyAdmin,
    ServiceActionsMixin,
    action_log,
    changelist_url,
    preformatted,
    pretty_json,
    service_action,
)
from trackrev.common.money import money_display

FAILED_DELIVERIES_SINCE = timedelta(days=1)  # as the connection's health on its Integrations page


def connections_with_health(queryset):
    """Each connection's last finished sync, what its last reconcile found that no webhook delivered,
    and its failed deliveries of the last day, in the list's one query."""
    finished = SyncRun.objects.filter(
        connection=OuterRef("pk"), status__in=[SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED]
    ).order_by("-queued_at", "-id")
    failed = (
        WebhookEvent.objects.filter(
            connection=OuterRef("pk"),
            status=WebhookEventStatus.FAILED,
            received_at__gte=timezone.now() - FAILED_DELIVERIES_SINCE,
        )
        .order_by()
        .values("connection")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        last_sync_status=Subquery(finished.values("status")[:1]),
        last_sync_missed=Subquery(finished.filter(kind=SyncRunKind.RECONCILE).values("missed_by_webhook")[:1]),
        failed_deliveries=Coalesce(Subquery(failed), 0),
    )


# Active connections that need a look: the last sync failed, the last reconcile found orders no webhook
# delivered (the endpoint or its events are misconfigured), or deliveries failed in the last day.
FAILING = Q(status=ConnectionStatus.ACTIVE) & (
    Q(last_sync_status=SyncRunStatus.FAILED) | Q(last_sync_missed__gt=0) | Q(failed_deliveries__gt=0)
)


def connection_problems(connection) -> str:
    problems = []
    if connection.last_sync_status == SyncRunStatus.FAILED:
        problems.append("last sync failed")
    if connection.last_sync_missed:
        problems.append(f"last reconcile found {connection.last_sync_missed} orders no webhook delivered")
    if connection.failed_deliveries:
        problems.append(f"{connection.failed_deliveries} deliveries failed in the last day")
    return "; ".join(problems)


class ConnectionHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing")]

    def queryset(self, request, queryset):
        return queryset.filter(FAILING) if self.value() == "failing" else queryset


@admin.register(ProcessorConnection)
class ProcessorConnectionAdmin(ServiceActionsMixin, admin.ModelAdmin):
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
        "problems",
    ]
    readonly_fields = ["workspace", "processor", "is_demo", "reconciled_through", "problems"]
    list_display = ["workspace", "processor", "status", "is_demo", "reconciled_through", "problems", "created_at"]
    list_filter = [ConnectionHealthFilter, "processor", "status", "is_demo"]
    search_fields = ["workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["resync"]

    def get_queryset(self, request):
        return connections_with_health(super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # connections are created with their secrets through the page or the API

    @admin.display(description="Problems")
    def problems(self, obj):
        return connection_problems(obj) or "—"

    @service_action(description="Resync the selected connections now", done="Resync")
    def resync(self, connection):
        sync_run_request(connection=connection)  # queued through the outbox, as the page's "Sync now"


class InboxStateFilter(admin.SimpleListFilter):
    title = "needs a look"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("waiting", f"Received, unprocessed after {STUCK_AFTER.seconds // 60} minutes")]

    def queryset(self, request, queryset):
        if self.value() != "waiting":
            return queryset
        return queryset.filter(status=WebhookEventStatus.RECEIVED, received_at__lt=timezone.now() - STUCK_AFTER)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ServiceActionsMixin, ReadOnlyAdmin):
    list_display = ["received_at", "processor", "event_type", "status", "attempts", "connection", "delivery_id"]
    list_filter = [InboxStateFilter, "status", "processor", "event_type"]
    search_fields = ["delivery_id", "event_type", "workspace__public_id"]
    list_select_related = ["connection__workspace"]
    show_full_result_count = False  # a large table: no count(*) of all of it on every page
    fields = [
        "workspace",
        "connection",
        "processor",
        "delivery_id",
        "event_type",
        "status",
        "attempts",
        "retry_at",
        "received_at",
        "processed_at",
        "body_sha256",
        "raw_headers",
        "raw_body",
        "error",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    @admin.display(description="Headers")
    def raw_headers(self, obj):
        return pretty_json(obj.headers)

    @admin.display(description="Body")
    def raw_body(self, obj):
        return pretty_json(obj.body)

    @admin.display(description="Last error")
    def error(self, obj):
        return preformatted(obj.last_error)

    @admin.action(description="Reprocess the selected deliveries", permissions=["operate"])
    def reprocess(self, request, queryset):
        events = list(queryset)
        busy = sum(not webhook_event_reprocess(event=event) for event in events)
        action_log(request, events, "Reprocess")
        message = f"Queued {len(events)} deliveries for processing."
        if busy:
            message += f" {busy} of them are being processed right now: they are processed again once done."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["placed_at", "workspace", "processor", "external_id", "kind", "status", "amount", "refunded"]
    list_display += ["matched_by"]
    list_filter = ["processor", "kind", "status", "matched_by", "first_seen_via", "currency"]
    search_fields = ["external_id", "visitor_id", "subscription_external_id", "workspace__public_id"]
    list_select_related = ["workspace"]
    show_full_result_count = False
    exclude = ["discount_codes"]
    readonly_fields = ["discounts"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money_display(obj.amount_minor, obj.currency)

    @admin.display(description="Refunded")
    def refunded(self, obj):
        return money_display(obj.refunded_minor, obj.currency) if obj.refunded_minor else "—"

    @admin.display(description="Discount codes")
    def discounts(self, obj):
        return pretty_json(obj.discount_codes)


class SubscriptionChangeList(ChangeList):
    def get_results(self, request):
        """The page's visitors in one read, not two queries per row."""
        super().get_results(request)
        visitors = subscription_visitors_of(subscriptions=self.result_list)
        for subscription in self.result_list:
            subscription.bound_visitor = visitors[subscription.pk]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "workspace", "processor", "status", "current_period_end", "cancel_at_period_end"]
    list_display += ["visitor"]
    list_filter = ["processor", "status", "cancel_at_period_end"]
    search_fields = ["external_id", "workspace__public_id"]
    list_select_related = ["workspace"]
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
    list_display = ["refunded_at", "workspace", "external_id", "order_external_id", "status", "amount"]
    list_filter = ["status", "currency"]
    search_fields = ["external_id", "order_external_id", "workspace__public_id"]
    list_select_related = ["workspace"]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money_display(obj.amount_minor, obj.currency)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "connection", "email_domain", "visitor_id", "updated_at"]
    search_fields = ["external_id", "visitor_id", "email_domain", "workspace__public_id"]
    list_select_related = ["connection__workspace"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["queued_at", "connection", "kind", "status", "fetched", "created", "updated", "missed_by_webhook"]
    list_filter = ["kind", "status"]
    search_fields = ["connection__workspace__name", "connection__workspace__public_id"]
    list_select_related = ["connection__workspace"]
    date_hierarchy = "queued_at"
    exclude = ["last_error"]
    readonly_fields = ["error"]

    @admin.display(description="Last error")
    def error(self, obj):
        return preformatted(obj.last_error)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["date", "currency", "rate"]
    list_filter = ["currency"]
    date_hierarchy = "date"


LISTED = 20  # rows the overview names; the link shows them all


@overview_section
def failing_connections() -> OverviewSection:
    failing = connections_with_health(ProcessorConnection.objects.select_related("workspace")).filter(FAILING)
    lines = [
        OverviewLine(
            label=str(connection),
            note=connection_problems(connection),
            url=reverse("admin:integrations_processorconnection_change", args=[connection.pk]),
        )
        for connection in failing.order_by("workspace__name", "processor")[:LISTED]
    ]
    return OverviewSection(
        title="Failing connections",
        lines=lines,
        url=changelist_url(ProcessorConnection, health="failing"),
        empty="No connection is failing.",
    )


@overview_section
def stuck_inbox() -> OverviewSection:
    now = timezone.now()
    counts = WebhookEvent.objects.aggregate(
        waiting=Count("pk", filter=Q(status=WebhookEventStatus.RECEIVED, received_at__lt=now - STUCK_AFTER)),
        failed=Count("pk", filter=Q(status=WebhookEventStatus.FAILED)),
        retrying=Count("pk", filter=Q(status=WebhookEventStatus.FAILED, retry_at__isnull=False)),
    )
    lines = [
        OverviewLine(
            label=f"Received, unprocessed after {STUCK_AFTER.seconds // 60} minutes",
            count=counts["waiting"],
            url=changelist_url(WebhookEvent, stuck="waiting"),
        ),
        OverviewLine(
            label="Failed",
            count=counts["failed"],
            note=f"({counts['retrying']} will be retried)" if counts["retrying"] else "",
            url=changelist_url(WebhookEvent, status__exact=WebhookEventStatus.FAILED.value),
        ),
    ]
    return OverviewSection(title="Stuck inbox deliveries", lines=lines, url=changelist_url(WebhookEvent))


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceActionsMixin, ReadOnlyAdmin):
    list_display = ["url", "workspace", "status", "event_list", "failing_since", "created_at"]
    list_filter = ["status"]
    search_fields = ["url", "public_id", "workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    # The secrets are never shown: not even as stored.
    fields = ["public_id", "workspace", "url", "events", "status", "disabled_reason", "failing_since", "created_at"]
    readonly_fields = fields
    actions = ["enable", "disable"]

    @admin.display(description="Events")
    def event_list(self, obj):
        return ", ".join(obj.events)

    @service_action(description="Enable the selected endpoints", done="Enable")
    def enable(self, endpoint):
        outbound_webhooks.endpoint_enable(endpoint=endpoint)

    @service_action(description="Disable the selected endpoints", done="Disable")
    def disable(self, endpoint):
        outbound_webhooks.endpoint_disable(endpoint=endpoint, reason="Disabled by TrackRev staff.")


@admin.register(OutboundEvent)
class OutboundEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "workspace", "subject", "public_id"]
    list_filter = ["type"]
    search_fields = ["public_id", "subject", "dedupe_key", "workspace__public_id"]
    list_select_related = ["workspace"]
    show_full_result_count = False
    fields = ["public_id", "workspace", "type", "subject", "dedupe_key", "created_at", "raw_body"]
    readonly_fields = fields

    @admin.display(description="Body")
    def raw_body(self, obj):
        return pretty_json(obj.body)


@admin.register(Delivery)
class DeliveryAdmin(ServiceActionsMixin, ReadOnlyAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "event__type"]
    search_fields = ["event__public_id", "endpoint__url", "endpoint__workspace__public_id"]
    list_select_related = ["event", "endpoint"]
    show_full_result_count = False
    fields = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "first_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    @service_action(description="Resend the selected deliveries", done="Resend")
    def resend(self, delivery):
        outbound_webhooks.delivery_resend(delivery=delivery)


@overview_section
def failed_deliveries() -> OverviewSection:
    since = timezone.now() - FAILED_DELIVERIES_SINCE
    counts = Delivery.objects.aggregate(
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED, created_at__gte=since)),
        retrying=Count("pk", filter=Q(status=DeliveryStatus.PENDING, attempts__gt=0)),
    )
    lines = [
        OverviewLine(
            label="Failed in the last day",
            count=counts["failed"],
            url=changelist_url(Delivery, status__exact=DeliveryStatus.FAILED.value),
        ),
        OverviewLine(
            label="Being retried",
            count=counts["retrying"],
            url=changelist_url(Delivery, status__exact=DeliveryStatus.PENDING.value),
        ),
        OverviewLine(
            label="Disabled endpoints",
            count=WebhookEndpoint.objects.filter(status=EndpointStatus.DISABLED).count(),
            url=changelist_url(WebhookEndpoint, status__exact=EndpointStatus.DISABLED.value),
        ),
    ]
    return OverviewSection(title="Outbound webhook deliveries", lines=lines, url=changelist_url(Delivery))
