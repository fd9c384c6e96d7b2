"""What every app's admin shares: read-only screens for derived rows, actions that change rows only
through the services (and leave a trace in the admin log), and raw payloads shown, never edited."""

import json
from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_permission_codename
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from trackrev.common.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that the code derives or receives: staff look, never add or edit (a hand edit would
    disagree with what produced the row)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceActionsMixin:
    """For a ModelAdmin whose actions go through the services. An action declared with
    `permissions=["operate"]` (as `service_action` does) needs the model's change permission, even where
    the admin's forms are read-only (`has_change_permission` is False there for everyone)."""

    def has_operate_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


def action_log(request, objects: Iterable, action: str) -> None:
    """One admin log entry per row an action changed, naming the action (each row's History shows it)."""
    objects = list(objects)
    if objects:
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=objects, action_flag=CHANGE, change_message=f"Action: {action}."
        )


def service_action(*, description: str, done: str):
    """An admin action applying `change(obj)` (a service call) to each selected row: a refusal
    (ApplicationError) names its row and does not stop the others; each changed row is logged; the
    person is told how many were done. Decorates `change(modeladmin, obj)`."""

    def decorator(change: Callable) -> Callable:
        def action(modeladmin, request, queryset):
            changed, refused = [], []
            for obj in queryset:
                try:
                    change(modeladmin, obj)
                except ApplicationError as error:
                    refused.append(f"{obj}: {error.message}")
                else:
                    changed.append(obj)
            action_log(request, changed, done)
            modeladmin.message_user(request, f"{done}: {len(changed)} done.", messages.SUCCESS)
            if refused:
                modeladmin.message_user(request, " ".join(refused), messages.WARNING)

        action.__name__ = change.__name__
        return admin.action(description=description, permissions=["operate"])(action)

    return decorator


def pretty_json(value) -> str:
    """A raw payload as staff read it: indented JSON in a <pre>, or the text as it came when it is not
    JSON (a body that failed to parse is the one most worth reading)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return preformatted(value)
    return preformatted(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def preformatted(text: str) -> str:
    """Text kept as written (a traceback, a body), escaped."""
    return format_html('<pre class="literal-block">{}</pre>', text) if text else "—"


def changelist_url(model, **filters) -> str:
    """The model's admin list, filtered as its list filters spell it (`status__exact="failed"`)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url
