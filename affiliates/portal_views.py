"""The partner portal (`/partners/`): a partner's own figures, links, commissions and payouts. Views parse,
make one call and render; reads are in affiliates/selectors/portal.py, the session in portal_access."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views import View
from django.views.decorators.cache import never_cache

from affiliates import portal_access
from affiliates.models import PartnerAccount
from affiliates.portal_access import PartnerRequiredMixin
from affiliates.portal_forms import (
    CommissionFilterForm,
    ForgotForm,
    LinkForm,
    LoginForm,
    PayoutSettingsForm,
    SetPasswordForm,
)
from affiliates.selectors.portal import (
    partner_commission_page,
    partner_dashboard,
    partner_discount_codes,
    partner_links,
    partner_payout_get,
    partner_payouts,
)
from affiliates.services.partners import link_create, payout_settings_set
from affiliates.services.payouts import payout_statement_csv
from affiliates.tokens import partner_token_generator
from attribution.charts import revenue_chart
from trackrev.common.client_ip import client_ip
from trackrev.common.downloads import csv_attachment
from trackrev.common.errors import ApplicationError


@method_decorator(never_cache, name="dispatch")
class LoginView(View):
    template = "affiliates/portal/login.html"

    def get(self, request):
        if portal_access.session_account(request):
            return redirect("affiliates_portal:dashboard")
        return render(request, self.template, {"form": LoginForm()})

    def post(self, request):
        form = LoginForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                account = portal_access.account_authenticate(**form.cleaned_data, ip=client_ip(request))
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = error.extra.get("status", 400)
            else:
                portal_access.portal_login(request, account)
                return redirect("affiliates_portal:dashboard")
        return render(request, self.template, {"form": form}, status=status)


class LogoutView(View):
    http_method_names = ["post"]

    def post(self, request):
        portal_access.portal_logout(request)
        messages.info(request, "You are logged out.")
        return redirect("affiliates_portal:login")


@method_decorator(never_cache, name="dispatch")
class SetPasswordView(View):
    """The link of the decision email or of "forgot": good until the password changes."""

    template = "affiliates/portal/set_password.html"

    def _account(self, uidb64: str, token: str) -> PartnerAccount | None:
        try:
            account = PartnerAccount.objects.filter(pk=int(force_str(urlsafe_base64_decode(uidb64)))).first()
        except (TypeError, ValueError, OverflowError):
            return None
        return account if account and partner_token_generator.check_token(account, token) else None

    def get(self, request, uidb64: str, token: str):
        account = self._account(uidb64, token)
        if account is None:
            return render(request, self.template, {"valid": False}, status=400)
        return render(request, self.template, {"valid": True, "form": SetPasswordForm(account)})

    def post(self, request, uidb64: str, token: str):
        account = self._account(uidb64, token)
        if account is None:
            return render(request, self.template, {"valid": False}, status=400)
        form = SetPasswordForm(account, request.POST)
        if not form.is_valid():
            return render(request, self.template, {"valid": True, "form": form}, status=400)
        portal_access.password_set(account=account, password=form.cleaned_data["password1"])
        messages.success(request, "Your password is set: log in with it.")
        return redirect("affiliates_portal:login")


class ForgotView(View):
    template = "affiliates/portal/forgot.html"

    def get(self, request):
        return render(request, self.template, {"form": ForgotForm()})

    def post(self, request):
        form = ForgotForm(request.POST)
        if not form.is_valid():
            return render(request, self.template, {"form": form}, status=400)
        portal_access.set_password_link_send(email=form.cleaned_data["email"])
        messages.info(request, "If a partner account uses that email, we sent it a link to choose a password.")
        return redirect("affiliates_portal:forgot")


class SwitchView(PartnerRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        try:
            portal_access.partner_switch(request, account=self.account, public_id=request.POST.get("partner", ""))
        except ApplicationError as error:
            raise Http404(error.message) from error
        return redirect("affiliates_portal:dashboard")


class DashboardView(PartnerRequiredMixin, View):
    def get(self, request):
        data = partner_dashboard(partner=self.partner)
        chart = revenue_chart(data.days, data.currency)
        return render(request, "affiliates/portal/dashboard.html", self.portal_context(data=data, chart=chart))


class LinksView(PartnerRequiredMixin, View):
    template = "affiliates/portal/links.html"

    def _render(self, request, form: LinkForm, status: int = 200):
        context = self.portal_context(
            links=partner_links(self.partner), codes=partner_discount_codes(self.partner), form=form
        )
        return render(request, self.template, context, status=status)

    def get(self, request):
        return self._render(request, LinkForm())

    def post(self, request):
        form = LinkForm(request.POST)
        if form.is_valid():
            try:
                link = link_create(partner=self.partner, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Link {link.slug} created.")
                return redirect("affiliates_portal:links")
        return self._render(request, form, status=400)


class CommissionsView(PartnerRequiredMixin, View):
    def get(self, request):
        form = CommissionFilterForm(request.GET)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        page = partner_commission_page(partner=self.partner, status=status, page=request.GET.get("page", 1))
        query = urlencode({"status": status}) if status else ""
        context = self.portal_context(form=form, page=page, status=status, status_query=query)
        return render(request, "affiliates/portal/commissions.html", context)


class PayoutsView(PartnerRequiredMixin, View):
    def get(self, request):
        context = self.portal_context(payouts=partner_payouts(self.partner))
        return render(request, "affiliates/portal/payouts.html", context)


class StatementView(PartnerRequiredMixin, View):
    def get(self, request, pk: int):
        payout = partner_payout_get(partner=self.partner, pk=pk)
        return csv_attachment(payout_statement_csv(payout), filename=f"statement-{payout.period:%Y-%m}-{payout.pk}.csv")


class PayoutSettingsView(PartnerRequiredMixin, View):
    template = "affiliates/portal/settings.html"

    def get(self, request):
        initial = {"method": self.partner.payout_method, **self.partner.payout_details}
        return render(request, self.template, self.portal_context(form=PayoutSettingsForm(initial=initial)))

    def post(self, request):
        form = PayoutSettingsForm(request.POST)
        if form.is_valid():
            try:
                payout_settings_set(
                    partner=self.partner, method=form.cleaned_data["method"], details=form.payout_details()
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Payout settings saved.")
                return redirect("affiliates_portal:settings")
        return render(request, self.template, self.portal_context(form=form), status=400)
