from django.shortcuts import render
from django.views import View

from trackrev.workspaces.access import MemberRequiredMixin


class AffiliatesView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "affiliates/affiliates.html")
