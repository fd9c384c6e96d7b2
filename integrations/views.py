"""The Integrations pages (every processor with its status; one page per processor with its setup
steps, connect form and health) and their small POST actions."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from integrations.forms import ConnectionForm
from integrations.models import ProcessorConnection, SyncRunStatus
from integrations.processors.registry import ADAPTERS, adapter_class
from integrations.selectors import connection_health, connection_list, connection_webhook_url
from integrations.services.connections import connection_create, connection_test, connection_update
from integrations.services.reconcile import DemoConnectionSync, SyncRunThrottled, sync_run_request
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.access import MemberRequiredMixin


def _connection(workspace, processor: str) -> ProcessorConnection | None:
    return connection_list(workspace=workspace).filter(processor=processor).first()


def _processor_panel(workspace, processor: str, form: ConnectionForm | None = None) -> dict:
    adapter = adapter_class(processor)
    connection = _connection(workspace, processor)
    webhook_url = (
        connection_webhook_url(connection=connection)
        if connection
        else connection_webhook_url(connection=ProcessorConnection(workspace=workspace, processor=processor))
    )
    if form is None:
        stored = (connection.options or {}) if connection else {}
        initial = {
            "api_base_url": connection.api_base_url if connection else adapter.default_api_base_url,
            **{option.name: stored.get(option.name, "") for option in adapter.connection_options},
        }
        form = ConnectionForm(
            initial=initial, processor=processor, existing=connection is not None, auto_id=f"id_{processor}_%s"
        )
    return {
        "key": processor,
        "adapter": adapter,
        "connection": connection,
        "health": connection_health(connection=connection) if connection else None,
        "webhook_url": webhook_url,
        "form": form,
    }


def _processor_page(request, workspace, processor: str, form: ConnectionForm | None = None, status: int = 200):
    panel = _processor_panel(workspace, processor, form)
    return render(request, "integrations/processor.html", {"p": panel}, status=status)


def _known(processor: str) -> str:
    if processor not in ADAPTERS:
        raise Http404("No such processor.")
    return processor


class IntegrationsView(MemberRequiredMixin, View):
    def get(self, request):
        connections = {c.processor: c for c in connection_list(workspace=self.workspace)}
        processors = [
            {
                "key": key,
                "adapter": adapter,
                "connection": connections.get(key),
                "health": connection_health(connection=connections[key]) if key in connections else None,
            }
            for key, adapter in ADAPTERS.items()
        ]
        return render(request, "integrations/integrations.html", {"processors": processors})


class ProcessorView(MemberRequiredMixin, View):
    def get(self, request, processor: str):
        return _processor_page(request, self.workspace, _known(processor))


class ConnectionSaveView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, processor: str):
        _known(processor)
        connection = _connection(self.workspace, processor)
        form = ConnectionForm(
            request.POST, processor=processor, existing=connection is not None, auto_id=f"id_{processor}_%s"
        )
        if not form.is_valid():
            return _processor_page(request, self.workspace, processor, form, status=400)
        data = {key: form.cleaned_data[key] for key in ("api_token", "webhook_secret", "api_base_url")}
        try:
            if connection is None:
                connection = connection_create(
                    workspace=self.workspace, processor=processor, options=form.options(), **data
                )
                messages.success(request, "Connected. Importing the last 90 days of orders in the background.")
            else:
                connection_update(connection=connection, options=form.options(), **data)
                messages.success(request, "Connection updated.")
            messages.info(request, connection_test(connection=connection))
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("integrations:processor", processor)


class ConnectionTestView(MemberRequiredMixin, View):
    def post(self, request, processor: str):
        connection = _connection(self.workspace, _known(processor))
        if connection is None:
            messages.error(request, "Connect the processor first.")
        else:
            try:
                messages.success(request, connection_test(connection=connection))
            except ApplicationError as error:
                messages.error(request, error.message)
        return redirect("integrations:processor", processor)


SYNC_MESSAGES = {
    SyncRunStatus.QUEUED: "Sync queued: its result appears below in a minute.",
    SyncRunStatus.RUNNING: "A sync is already running: its result appears below when it ends.",
}


class ConnectionSyncView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, processor: str):
        connection = _connection(self.workspace, _known(processor))
        if connection is None:
            messages.error(request, "Connect the processor first.")
            return redirect("integrations:processor", processor)
        try:
            run = sync_run_request(connection=connection)
        except (SyncRunThrottled, DemoConnectionSync) as error:
            messages.info(request, error.message)
        else:
            messages.success(request, SYNC_MESSAGES[run.status])
        return redirect("integrations:processor", processor)
