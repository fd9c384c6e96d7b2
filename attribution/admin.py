"""Staff views of the pixel's and the credit engine's rows: read-only, since credits, rollups and
labels are derived from them; a channel rule is removed through the same service as on its page, and a
workspace is recomputed through the recompute service."""

from django.contrib import admin
from pyroaring import BitMap

from attribution.models import (
    AttributionState,
    ChannelRule,
    Credit,
    DailyRollup,
    DailyTotal,
    Identity,
    OrderAttribution,
    RecomputeRun,
    Touch,
    Visitor,
    VisitorSetDay,
)
from attribution.services.channels import channel_rule_delete
from attribution.services.recompute import workspace_recompute_start
from trackrev.common.admin import ReadOnlyAdmin, ServiceActionsMixin, preformatted, service_action
from trackrev.common.money import money_display


class DerivedAdmin(ReadOnlyAdmin):
    """Deleting one would leave the credits computed from it standing."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Touch)
class TouchAdmin(DerivedAdmin):
    list_display = [
        "occurred_at",
        "workspace",
        "visitor_id",
        "channel",
        "channel_group",
        "campaign",
        "source",
        "medium",
    ]
    list_filter = ["channel_group", "click_id_type"]
    search_fields = ["visitor_id", "channel", "campaign", "source", "partner_code", "workspace__public_id"]
    list_select_related = ["workspace"]
    show_full_result_count = False  # the largest table: no count(*) of it on every page
    ordering = ["-occurred_at", "-id"]


@admin.register(ChannelRule)
class ChannelRuleAdmin(ReadOnlyAdmin):
    list_display = ["workspace", "position", "field", "operator", "value", "channel", "channel_group", "created_at"]
    list_filter = ["field", "operator", "channel_group"]
    search_fields = ["value", "channel", "workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    ordering = ["workspace", "position", "id"]

    def delete_model(self, request, obj):
        channel_rule_delete(rule=obj)  # re-labels the workspace's history, as the page does

    def delete_queryset(self, request, queryset):
        for rule in queryset.select_related("workspace"):
            channel_rule_delete(rule=rule)


@admin.register(Identity)
class IdentityAdmin(DerivedAdmin):
    list_display = ["created_at", "workspace", "visitor_id", "source"]
    list_filter = ["source"]
    search_fields = ["visitor_id", "workspace__public_id"]
    list_select_related = ["workspace"]


@admin.register(OrderAttribution)
class OrderAttributionAdmin(DerivedAdmin):
    list_display = ["order", "workspace", "visitor_id", "matched_by", "match_verified", "revision", "updated_at"]
    list_filter = ["matched_by", "match_verified"]
    search_fields = ["visitor_id", "order__external_id", "workspace__public_id"]
    list_select_related = ["order", "workspace"]


@admin.register(RecomputeRun)
class RecomputeRunAdmin(DerivedAdmin):
    list_display = ["created_at", "workspace", "reason", "status", "done", "total", "finished_at"]
    list_filter = ["status"]
    search_fields = ["workspace__name", "workspace__public_id", "reason"]
    list_select_related = ["workspace"]
    date_hierarchy = "created_at"
    exclude = ["last_error"]
    readonly_fields = ["error"]

    @admin.display(description="Last error")
    def error(self, obj):
        return preformatted(obj.last_error)


STAFF_RECOMPUTE = "Requested by staff"


@admin.register(AttributionState)
class AttributionStateAdmin(ServiceActionsMixin, DerivedAdmin):
    """One per workspace: the credits version it serves and the settings they were computed with. Its
    action recomputes the workspace (the runs are under Recompute runs)."""

    list_display = ["workspace", "version", "lookback_days", "timezone", "touches_seen"]
    list_filter = ["lookback_days"]
    search_fields = ["workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    actions = ["recompute"]

    @service_action(description="Recompute the credits of the selected workspaces", done="Recompute")
    def recompute(self, state):
        workspace_recompute_start(workspace=state.workspace, reason=STAFF_RECOMPUTE)


@admin.register(Credit)
class CreditAdmin(DerivedAdmin):
    list_display = ["order", "workspace", "version", "model", "channel", "campaign", "weight", "revenue", "day"]
    list_filter = ["model", "channel_group"]
    search_fields = ["order__external_id", "channel", "campaign", "workspace__public_id"]
    list_select_related = ["order", "workspace"]
    show_full_result_count = False

    @admin.display(description="Revenue", ordering="revenue_minor")
    def revenue(self, obj):
        return money_display(obj.revenue_minor, obj.currency)


@admin.register(DailyRollup)
class DailyRollupAdmin(DerivedAdmin):
    list_display = ["day", "workspace", "version", "model", "channel", "campaign", "processor", "revenue_usd"]
    list_display += ["conversions"]
    list_filter = ["model", "channel_group"]
    search_fields = ["channel", "campaign", "workspace__public_id"]
    list_select_related = ["workspace"]
    show_full_result_count = False

    @admin.display(description="Revenue (USD)", ordering="revenue_usd_minor")
    def revenue_usd(self, obj):
        return money_display(obj.revenue_usd_minor, "USD")


@admin.register(DailyTotal)
class DailyTotalAdmin(DerivedAdmin):
    list_display = ["day", "workspace", "version", "processor", "currency", "revenue_usd", "conversions"]
    list_filter = ["currency"]
    search_fields = ["workspace__public_id"]
    list_select_related = ["workspace"]

    @admin.display(description="Revenue (USD)", ordering="revenue_usd_minor")
    def revenue_usd(self, obj):
        return money_display(obj.revenue_usd_minor, "USD")


@admin.register(VisitorSetDay)
class VisitorSetDayAdmin(DerivedAdmin):
    list_display = ["day", "workspace", "channel", "campaign", "visitor_count"]
    list_filter = ["channel_group"]
    search_fields = ["channel", "campaign", "workspace__public_id"]
    list_select_related = ["workspace"]
    exclude = ["visitors"]  # a serialized bitmap: its size is what staff can read
    readonly_fields = ["visitor_count"]

    @admin.display(description="Visitors")
    def visitor_count(self, obj):
        return len(BitMap.deserialize(bytes(obj.visitors)))


@admin.register(Visitor)
class VisitorAdmin(DerivedAdmin):
    list_display = ["visitor_id", "workspace", "created_at", "browser", "cookie"]
    list_filter = ["browser", "cookie"]
    search_fields = ["visitor_id", "workspace__public_id"]
    list_select_related = ["workspace"]
    show_full_result_count = False
