from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Sum
from django.urls import reverse

from trackrev.admin_site import OverviewLine, OverviewSection, overview_section
from trackrev.common.admin import ReadOnlyAdmin, ServiceActionsMixin, changelist_url, service_action
from trackrev.workspaces.models import ApiKey, Membership, Plan, UsageDay, UsageMonth, User, Workspace
from trackrev.workspaces.services import SETTINGS_FIELDS, api_key_revoke, workspace_update
from trackrev.workspaces.usage import month_start


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "public_id", "plan", "timezone", "created_at"]
    list_filter = ["plan"]
    search_fields = ["name", "public_id"]
    # The billing ids and the plan's last billing event come from TrackRev's own billing (trackrev/workspaces/billing/).
    readonly_fields = [
        "public_id",
        "reporting_currency",
        "created_at",
        "billing_customer_id",
        "billing_subscription_id",
        "billing_event_at",
    ]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Through the service, so that a change of lookback or time zone recomputes here too.
        workspace_update(
            workspace=obj, data={name: getattr(obj, name) for name in form.changed_data if name in SETTINGS_FIELDS}
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "workspace__name", "workspace__public_id"]
    autocomplete_fields = ["user", "workspace"]
    list_select_related = ["user", "workspace"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "workspace", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    # Never the digest: staff recognise a key by its prefix.
    fields = ["name", "workspace", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["workspace", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued on the API keys page or by create_workspace, shown once

    @service_action(description="Revoke the selected API keys", done="Revoke")
    def revoke(self, api_key):
        api_key_revoke(api_key=api_key)


@admin.register(UsageMonth)
class UsageMonthAdmin(ReadOnlyAdmin):
    """Flushed from the pixel's live counters every few minutes: this month's row trails them a little."""

    list_display = ["month", "workspace", "events", "last_event_at"]
    search_fields = ["workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    date_hierarchy = "month"
    ordering = ["-month", "-events"]


@admin.register(UsageDay)
class UsageDayAdmin(ReadOnlyAdmin):
    """The daily share of each month's events, for the usage page's chart."""

    list_display = ["day", "workspace", "events"]
    search_fields = ["workspace__name", "workspace__public_id"]
    list_select_related = ["workspace"]
    date_hierarchy = "day"
    ordering = ["-day", "-events"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """The admin log: every edit and every action staff made, one row per object."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag", "change"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "change_message", "user__email"]
    list_select_related = ["user", "content_type"]
    date_hierarchy = "action_time"

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what staff did stays

    @admin.display(description="Change")
    def change(self, obj):
        return obj.get_change_message()


@overview_section
def workspaces_by_plan() -> OverviewSection:
    counts = dict(Workspace.objects.values_list("plan").annotate(n=Count("id")))
    lines = [
        OverviewLine(
            label=plan.label, count=counts.get(plan.value, 0), url=changelist_url(Workspace, plan__exact=plan.value)
        )
        for plan in Plan
    ]
    return OverviewSection(title="Workspaces by plan", lines=lines, url=changelist_url(Workspace))


TOP_WORKSPACES = 10


@overview_section
def events_this_month() -> OverviewSection:
    month = month_start()
    rows = UsageMonth.objects.filter(month=month)
    total = rows.aggregate(total=Sum("events"))["total"] or 0
    top = rows.select_related("workspace").order_by("-events", "workspace_id")[:TOP_WORKSPACES]
    lines = [OverviewLine(label="All workspaces", count=total)] + [
        OverviewLine(
            label=row.workspace.name,
            count=row.events,
            url=reverse("admin:workspaces_workspace_change", args=[row.workspace_id]),
        )
        for row in top
    ]
    return OverviewSection(
        title=f"Events this month ({month:%B %Y}, top {TOP_WORKSPACES} workspaces)",
        lines=lines,
        url=changelist_url(UsageMonth, month__exact=month.isoformat()),
    )
