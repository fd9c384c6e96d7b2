from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

from trackrev.common.admin import action_log
from trackrev.health.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at"]
    readonly_fields = ["name", "last_run_at"]


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """django-celery-beat's screen, with its actions kept to staff who may change periodic tasks and
    recorded in the admin log like every other action of the back office."""

    def _logged(self, request, queryset, action, done: str):
        tasks = list(queryset)
        action(request, queryset)
        action_log(request, tasks, done)

    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        self._logged(request, queryset, super().enable_tasks, "Enable")

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        self._logged(request, queryset, super().disable_tasks, "Disable")

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        self._logged(request, queryset, super().toggle_tasks, "Toggle")

    @admin.action(description="Run selected tasks now", permissions=["change"])
    def run_tasks(self, request, queryset):
        self._logged(request, queryset, super().run_tasks, "Run now")
