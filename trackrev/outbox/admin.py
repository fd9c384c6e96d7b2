from django.contrib import admin, messages

from trackrev.outbox.models import Notification
from trackrev.outbox.services import notifications_retry


class GaveUpFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", "Pending"), ("failing", "Failing, will retry"), ("gave_up", "Gave up")]

    def queryset(self, request, queryset):
        return {
            "pending": queryset.filter(due_at__isnull=False, attempts=0),
            "failing": queryset.filter(due_at__isnull=False, attempts__gt=0),
            "gave_up": queryset.filter(due_at__isnull=True),
        }.get(self.value(), queryset)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "task", "subject_id", "attempts", "due_at"]
    list_filter = [GaveUpFilter, "task"]
    search_fields = ["task", "subject_id"]
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Deliver the selected notifications again now")
    def retry(self, request, queryset):
        count = notifications_retry(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Sent {count} notifications again.", messages.SUCCESS)
