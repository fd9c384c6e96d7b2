from django.shortcuts import render
from django.views import View

from trackrev.workspaces.access import MemberRequiredMixin


class OverviewView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "attribution/overview.html")


class OrdersView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "attribution/orders.html")
