from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from trackrev.admin_site import OverviewLine, OverviewSection, overview_section
from trackrev.common.admin import ServiceActionsMixin, action_log, changelist_url, preformatted
from trackrev.outbox.models import Notification
from trackrev.outbox.services import notifications_retry


def _states(now) -> dict[str, Q]:
    return {
        "pending": Q(due_at__isnull=False, attempts=0),
        "overdue": Q(due_at__lte=now),  # the sweeper should have sent it by now: is beat running?
        "failing": Q(due_at__isnull=False, attempts__gt=0),
        "gave_up": Q(due_at__isnull=True),
    }


STATE_LABELS = {
    "pending": "Pending",
    "overdue": "Overdue (due, not sent)",
    "failing": "Failing, will retry",
    "gave_up": "Gave up",
}


class GaveUpFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(STATE_LABELS.items())

    def queryset(self, request, queryset):
        state = _states(timezone.now()).get(self.value())
        return queryset if state is None else queryset.filter(state)


@admin.register(Notification)
class NotificationAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = ["created_at", "task", "subject_id", "attempts", "due_at"]
    list_filter = [GaveUpFilter, "task"]
    search_fields = ["task", "subject_id"]
    fields = ["task", "subject_id", "version", "due_at", "attempts", "created_at", "error"]
    readonly_fields = fields
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Last error")
    def error(self, obj):
        return preformatted(obj.last_error)

    @admin.action(description="Deliver the selected notifications again now", permissions=["operate"])
    def retry(self, request, queryset):
        notifications = list(queryset)
        count = notifications_retry(ids=[notification.pk for notification in notifications])
        action_log(request, notifications, "Deliver again now")
        self.message_user(request, f"Sent {count} notifications again.", messages.SUCCESS)


@overview_section
def outbox_backlog() -> OverviewSection:
    states = _states(timezone.now())
    counts = Notification.objects.aggregate(**{state: Count("pk", filter=q) for state, q in states.items()})
    lines = [
        OverviewLine(label=label, count=counts[state], url=changelist_url(Notification, state=state))
        for state, label in STATE_LABELS.items()
    ]
    return OverviewSection(title="Outbox backlog", lines=lines, url=changelist_url(Notification))
