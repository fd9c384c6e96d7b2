from django.contrib import admin

from trackrev.health.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at"]
    readonly_fields = ["name", "last_run_at"]
