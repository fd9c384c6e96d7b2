"""Staff views of the pixel's and the credit engine's rows: read-only, since credits, rollups and
labels are derived from them; a channel rule is removed through the same service as on its page."""

from django.contrib import admin

from attribution.models import ChannelRule, Identity, OrderAttribution, RecomputeRun, Touch
from attribution.services.channels import channel_rule_delete
from trackrev.common.admin import ReadOnlyAdmin


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
