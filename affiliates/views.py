"""The workspace's affiliate pages under /app/affiliates/: programs, partners and applications,
commissions, payouts. Thin: parse, one service call, flash what a business rule refused, redirect.
Objects come through affiliates/selectors/workspace.py, so another workspace's id is a 404."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from affiliates import forms
from affiliates.models import CommissionKind, CommissionStatus, PartnerStatus, PayoutMethod, PayoutStatus, Review
from affiliates.selectors import workspace as selectors
from affiliates.services.commissions import commission_review
from affiliates.services.partners import (
    ALLOWED_MOVES,
    discount_code_add,
    partner_create,
    partner_link,
    partner_set_status,
)
from affiliates.services.payout_sending import payout_batch_retry
from affiliates.services.payout_settings import payout_settings_update
from affiliates.services.payouts import (
    payout_mark_paid,
    payout_statement_csv,
    payouts_create,
    payouts_csv,
    period_parse,
    previous_period,
    stripe_payouts_available,
)
from affiliates.services.programs import PRO_REQUIRED, PlanRequired, affiliates_allowed, program_create, program_update
from trackrev.common.downloads import csv_attachment
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.access import MemberRequiredMixin


class AffiliatesMixin(MemberRequiredMixin):
    """Viewers see every page; only owners and admins change anything."""

    manage_required = True

    def page(self, request, template: str, context: dict, status: int = 200):
        context |= {"allowed": affiliates_allowed(self.workspace), "pro_required": PRO_REQUIRED}
        return render(request, f"affiliates/{template}", context, status=status)


def _found(obj):
    if obj is None:
        raise Http404("Not found in this workspace.")
    return obj


def _apply_url(program) -> str:
    """The program's public application page, on the public host partners reach (as their links are)."""
    if not program.applications_open:
        return ""
    return settings.TRACKREV_PUBLIC_URL + reverse("affiliates_public:apply", args=[program.public_id])


class AffiliatesView(AffiliatesMixin, View):
    def get(self, request):
        programs = selectors.program_list(workspace=self.workspace) if affiliates_allowed(self.workspace) else []
        rows = [{"program": p, "apply_url": _apply_url(p)} for p in programs]
        return self.page(request, "affiliates.html", {"programs": rows, "tab": "Programs"})


class ProgramCreateView(AffiliatesMixin, View):
    def get(self, request):
        return self.page(request, "program_form.html", {"form": forms.ProgramForm(), "tab": "Programs"})

    def post(self, request):
        form = forms.ProgramForm(request.POST)
        if form.is_valid():
            try:
                program = program_create(workspace=self.workspace, **form.program_data())
            except PlanRequired as error:
                messages.error(request, error.message)
                return redirect("affiliates:index")
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Program “{program.name}” created.")
                return redirect("affiliates:program", program.pk)
        return self.page(request, "program_form.html", {"form": form, "tab": "Programs"}, status=400)


class ProgramEditView(AffiliatesMixin, View):
    def get(self, request, program_id: int):
        program = _found(selectors.program_get(workspace=self.workspace, program_id=program_id))
        context = {"form": forms.ProgramForm(instance=program), "program": program, "tab": "Programs"}
        return self.page(request, "program_form.html", context)

    def post(self, request, program_id: int):
        program = _found(selectors.program_get(workspace=self.workspace, program_id=program_id))
        form = forms.ProgramForm(request.POST, instance=program)
        if form.is_valid():
            try:
                program_update(program=program, data=form.program_data())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Program saved.")
                return redirect("affiliates:program", program.pk)
        context = {"form": form, "program": program, "tab": "Programs"}
        return self.page(request, "program_form.html", context, status=400)


# What a person may do to a partner in each status (ALLOWED_MOVES says which moves exist).
STATUS_ACTIONS = {
    PartnerStatus.PENDING: [(PartnerStatus.APPROVED, "Approve"), (PartnerStatus.REJECTED, "Reject")],
    PartnerStatus.APPROVED: [(PartnerStatus.SUSPENDED, "Suspend")],
    PartnerStatus.SUSPENDED: [(PartnerStatus.APPROVED, "Reactivate")],
    PartnerStatus.REJECTED: [(PartnerStatus.APPROVED, "Approve")],
}


def _partner_row(partner) -> dict:
    actions = [(to, label) for to, label in STATUS_ACTIONS[partner.status] if partner.status in ALLOWED_MOVES[to]]
    return {"partner": partner, "link": partner_link(partner), "actions": actions}


class ProgramView(AffiliatesMixin, View):
    """The program's partners, its pending applications, and the forms that add partners and codes."""

    def get(self, request, program_id: int, form=None, status: int = 200):
        program = _found(selectors.program_get(workspace=self.workspace, program_id=program_id))
        rows = [_partner_row(p) for p in selectors.partner_list(program=program)]
        context = {
            "program": program,
            "applications": [r for r in rows if r["partner"].status == PartnerStatus.PENDING],
            "partners": [r for r in rows if r["partner"].status != PartnerStatus.PENDING],
            "form": form or forms.PartnerForm(),
            "code_form": forms.DiscountCodeForm(),
            "tab": "Programs",
        }
        return self.page(request, "program.html", context, status=status)

    def post(self, request, program_id: int):
        """Add a partner: approved at once, and emailed."""
        program = _found(selectors.program_get(workspace=self.workspace, program_id=program_id))
        form = forms.PartnerForm(request.POST)
        if form.is_valid():
            try:
                partner = partner_create(program=program, **form.partner_data())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"{partner.name} added and emailed their link.")
                return redirect("affiliates:program", program.pk)
        return self.get(request, program_id, form=form, status=400)


class PartnerStatusView(AffiliatesMixin, View):
    def post(self, request, partner_id: int):
        partner = _found(selectors.partner_get(workspace=self.workspace, partner_id=partner_id))
        try:
            partner = partner_set_status(partner=partner, status=request.POST.get("status", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{partner.name} is now {partner.get_status_display().lower()}.")
        return redirect("affiliates:program", partner.program_id)


class DiscountCodeAddView(AffiliatesMixin, View):
    def post(self, request, partner_id: int):
        partner = _found(selectors.partner_get(workspace=self.workspace, partner_id=partner_id))
        try:
            code = discount_code_add(partner=partner, code=request.POST.get("code", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Orders with the code {code.code} now refer to {partner.name}.")
        return redirect("affiliates:program", partner.program_id)


# The decisions a person may take on an unpaid sale commission, by its status.
REVIEW_ACTIONS = {
    CommissionStatus.PENDING: [
        (Review.APPROVED_EARLY, "Approve early"),
        (Review.HELD, "Hold"),
        (Review.REJECTED, "Reject"),
    ],
    CommissionStatus.HELD: [(Review.RELEASED, "Release"), (Review.REJECTED, "Reject")],
    CommissionStatus.APPROVED: [(Review.HELD, "Hold"), (Review.REJECTED, "Reject")],
}


def _review_actions(commission) -> list:
    if commission.kind != CommissionKind.SALE or commission.payout_id is not None:
        return []
    return REVIEW_ACTIONS.get(commission.status, [])


class CommissionsView(AffiliatesMixin, View):
    def get(self, request):
        form = forms.CommissionFilterForm(
            request.GET or None,
            programs=selectors.program_list(workspace=self.workspace),
            partners=selectors.partner_choices(workspace=self.workspace),
        )
        context = {"form": form, "tab": "Commissions"}
        if form.is_bound and not form.is_valid():
            return self.page(request, "commissions.html", context)
        filters = form.cleaned_data if form.is_bound else {}
        rows = selectors.commission_list(workspace=self.workspace, filters=filters)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context |= {
            "page": page,
            "query": query.urlencode(),
            "here": request.GET.urlencode(),
            "commissions": [{"commission": c, "actions": _review_actions(c)} for c in page.object_list],
        }
        return self.page(request, "commissions.html", context)


class CommissionReviewView(AffiliatesMixin, View):
    def post(self, request, commission_id: int):
        commission = _found(selectors.commission_get(workspace=self.workspace, commission_id=commission_id))
        review = request.POST.get("review", "")
        try:
            if review not in Review.values or review == Review.NONE:
                raise ApplicationError("Choose a decision.")
            commission = commission_review(commission=commission, review=review)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Commission {commission.pk} is now {commission.get_status_display().lower()}.")
        # Back to the page and filters the decision was taken on (a query string on our own path).
        back = QueryDict(request.POST.get("back", "")).urlencode()
        return redirect(reverse("affiliates:commissions") + (f"?{back}" if back else ""))


class PayoutsView(AffiliatesMixin, View):
    def get(self, request, settings_form=None, status: int = 200):
        stored = selectors.payout_settings_get(workspace=self.workspace)
        if settings_form is None:
            initial = {"paypal_client_id": stored.paypal_client_id, "paypal_mode": stored.paypal_mode} if stored else {}
            settings_form = forms.PayPalSettingsForm(initial=initial)
        page = Paginator(selectors.payout_list(workspace=self.workspace), 50).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "payouts": page.object_list,
            "run_form": forms.PayoutsRunForm(initial={"period": f"{previous_period():%Y-%m}"}),
            "settings_form": settings_form,
            "secret_stored": bool(stored and stored.paypal_client_secret),
            "stripe_available": stripe_payouts_available(),
            "manual": PayoutMethod.MANUAL,
            "pending": PayoutStatus.PENDING,
            "failed": PayoutStatus.FAILED,
            "tab": "Payouts",
        }
        return self.page(request, "payouts.html", context, status=status)


class PayoutsRunView(AffiliatesMixin, View):
    def post(self, request):
        try:
            period = period_parse(request.POST.get("period", ""))
            payouts = payouts_create(workspace=self.workspace, period=period)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            count = len(payouts)
            messages.success(request, f"{period:%B %Y}: {count} payout{'s' if count != 1 else ''}.")
        return redirect("affiliates:payouts")


class PayoutPaidView(AffiliatesMixin, View):
    def post(self, request, payout_id: int):
        payout = _found(selectors.payout_get(workspace=self.workspace, payout_id=payout_id))
        try:
            payout = payout_mark_paid(payout=payout)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"The payout to {payout.partner.name} is marked paid.")
        return redirect("affiliates:payouts")


class PayoutBatchRetryView(AffiliatesMixin, View):
    """A failed PayPal or Stripe batch's failed payouts, sent again as a new attempt."""

    def post(self, request, batch_id: int):
        batch = _found(selectors.payout_batch_get(workspace=self.workspace, batch_id=batch_id))
        try:
            payout_batch_retry(batch=batch)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The failed payouts are being sent again.")
        return redirect("affiliates:payouts")


class PayoutsExportView(AffiliatesMixin, View):
    """The month's manual transfers as a CSV sheet."""

    def get(self, request):
        try:
            period = period_parse(request.GET.get("period", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("affiliates:payouts")
        body = payouts_csv(selectors.manual_payout_list(workspace=self.workspace, period=period))
        return csv_attachment(body, filename=f"payouts-{period:%Y-%m}.csv")


class PayoutStatementView(AffiliatesMixin, View):
    def get(self, request, payout_id: int):
        payout = _found(selectors.payout_get(workspace=self.workspace, payout_id=payout_id))
        filename = f"statement-{payout.period:%Y-%m}-{payout.partner.code}.csv"
        return csv_attachment(payout_statement_csv(payout), filename=filename)


class PayoutSettingsView(PayoutsView):
    http_method_names = ["post"]

    def post(self, request):
        form = forms.PayPalSettingsForm(request.POST)
        if not form.is_valid():
            return self.get(request, settings_form=form, status=400)
        payout_settings_update(workspace=self.workspace, **form.cleaned_data)
        messages.success(request, "PayPal settings saved.")
        return redirect("affiliates:payouts")
