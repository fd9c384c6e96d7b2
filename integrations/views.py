from django.shortcuts import render
from django.views import View

from trackrev.workspaces.access import MemberRequiredMixin


class IntegrationsView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "integrations/integrations.html")


class WebhookEndpointsView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "integrations/webhook_endpoints.html")
