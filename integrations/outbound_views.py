"""The Webhooks page: the workspace's outbound endpoints (add, send a test event, rotate the secret, disable,
enable, delete) and its recent deliveries with their attempts (resend). A new secret is rendered in the
response that made it, and never again."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from integrations.forms import WebhookEndpointForm
from integrations.selectors import delivery_get, delivery_list, webhook_endpoint_get, webhook_endpoint_list
from integrations.services import outbound_webhooks as outbound
from trackrev.workspaces.access import MemberRequiredMixin


def _page(request, workspace, *, form=None, secret=None, status=200):
    deliveries = Paginator(delivery_list(workspace=workspace), 25).get_page(request.GET.get("page"))
    context = {
        "endpoints": webhook_endpoint_list(workspace=workspace),
        "form": form or WebhookEndpointForm(),
        "secret": secret,  # {"endpoint", "value", "new"}: only in the answer that made it
        "page": deliveries,
    }
    return render(request, "integrations/webhook_endpoints.html", context, status=status)


class WebhookEndpointsView(MemberRequiredMixin, View):
    manage_required = True

    def get(self, request):
        return _page(request, self.workspace)

    def post(self, request):
        form = WebhookEndpointForm(request.POST)
        if form.is_valid() and webhook_endpoint_list(workspace=self.workspace).count() >= outbound.ENDPOINTS_MAX:
            form.add_error(None, f"A workspace has at most {outbound.ENDPOINTS_MAX} endpoints.")
        if not form.is_valid():
            return _page(request, self.workspace, form=form, status=400)
        endpoint, secret = outbound.endpoint_create(workspace=self.workspace, **form.cleaned_data)
        return _page(request, self.workspace, secret={"endpoint": endpoint, "value": secret, "new": True})


class EndpointActionView(MemberRequiredMixin, View):
    manage_required = True
    DONE = {
        "test": "Test event queued: it appears under Recent deliveries in a moment.",
        "disable": "Endpoint disabled: nothing more is sent to it.",
        "enable": "Endpoint enabled: new events are sent to it again.",
        "delete": "Endpoint deleted.",
    }

    def post(self, request, endpoint_id: str, action: str):
        endpoint = webhook_endpoint_get(workspace=self.workspace, public_id=endpoint_id)
        if endpoint is None or action not in (*self.DONE, "rotate"):
            raise Http404
        if action == "rotate":
            secret = outbound.endpoint_secret_rotate(endpoint=endpoint)
            return _page(request, self.workspace, secret={"endpoint": endpoint, "value": secret})
        if action == "test":
            outbound.endpoint_test_send(endpoint=endpoint)
        elif action == "disable":
            outbound.endpoint_disable(endpoint=endpoint, reason="Disabled by hand.")
        elif action == "enable":
            outbound.endpoint_enable(endpoint=endpoint)
        else:
            outbound.endpoint_delete(endpoint=endpoint)
        messages.success(request, self.DONE[action])
        return redirect("integrations:webhook_endpoints")


class DeliveryResendView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, delivery_id: int):
        delivery = delivery_get(workspace=self.workspace, delivery_id=delivery_id)
        if delivery is None:
            raise Http404
        outbound.delivery_resend(delivery=delivery)
        messages.success(request, "Delivery queued again.")
        return redirect("integrations:webhook_endpoints")
