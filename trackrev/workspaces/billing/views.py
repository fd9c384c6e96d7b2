"""Upgrade to Pro and manage the subscription: POSTs by owners and admins that send the person to the
operator's Stripe account (Checkout, the Billing Portal) with a 303, and back to the usage page."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from trackrev.workspaces.access import MemberRequiredMixin
from trackrev.workspaces.billing.stripe_api import BillingUnavailable, billing_enabled, checkout_url, portal_url
from trackrev.workspaces.models import Plan

UNAVAILABLE = "The payment page could not be opened just now. Please try again in a minute."


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # the browser GETs the payment page after this POST
    return response


def _usage_url() -> str:
    return settings.TRACKREV_PUBLIC_URL + reverse("workspaces:usage")


class BillingView(MemberRequiredMixin, View):
    manage_required = True

    def dispatch(self, request, *args, **kwargs):
        if not billing_enabled():
            raise Http404("Plans are set by TrackRev staff here.")
        return super().dispatch(request, *args, **kwargs)


class UpgradeView(BillingView):
    def post(self, request):
        if self.workspace.plan == Plan.PRO:
            messages.info(request, "This workspace is already on Pro.")
            return redirect("workspaces:usage")
        try:
            url = checkout_url(workspace=self.workspace, email=request.user.email, return_url=_usage_url())
        except BillingUnavailable:
            messages.error(request, UNAVAILABLE)
            return redirect("workspaces:usage")
        return _see_other(url)


class ManageBillingView(BillingView):
    def post(self, request):
        if not self.workspace.billing_customer_id:
            raise Http404("This workspace has no subscription to manage.")
        try:
            url = portal_url(workspace=self.workspace, return_url=_usage_url())
        except BillingUnavailable:
            messages.error(request, UNAVAILABLE)
            return redirect("workspaces:usage")
        return _see_other(url)
