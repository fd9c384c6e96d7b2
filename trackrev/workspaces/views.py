"""People-facing pages for accounts and workspace administration (thin: forms → one service)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from trackrev.common.charts import BarChart, Slot, bar_layout
from trackrev.common.display import day_display, number_display
from trackrev.common.errors import ApplicationError
from trackrev.workspaces import forms, selectors, services
from trackrev.workspaces.access import MemberRequiredMixin, select_workspace
from trackrev.workspaces.billing.stripe_api import billing_enabled
from trackrev.workspaces.models import ApiKey, Membership
from trackrev.workspaces.usage import FREE_MONTHLY_EVENTS, usage_days, usage_summary


class LoginView(auth_views.LoginView):
    """Django's, by email, answering 429 while the login is throttled (forms.ThrottledLoginMixin)."""

    authentication_form = forms.EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
        return response


class SignUpView(View):
    template_name = "workspaces/signup.html"

    def get(self, request):
        if request.user.is_authenticated:
            return redirect("dashboard:overview")
        return render(request, self.template_name, {"form": forms.SignUpForm()})

    def post(self, request):
        form = forms.SignUpForm(request.POST)
        if form.is_valid():
            try:
                user, workspace = services.user_sign_up(**form.cleaned_data)
            except ApplicationError as error:
                form.add_error("email", error.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session["workspace"] = workspace.public_id
                return redirect("dashboard:overview")
        return render(request, self.template_name, {"form": form}, status=400)


class WorkspaceCreateView(LoginRequiredMixin, View):
    template_name = "workspaces/workspace_create.html"

    def get(self, request):
        return render(request, self.template_name, {"form": forms.WorkspaceCreateForm()})

    def post(self, request):
        form = forms.WorkspaceCreateForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        workspace = services.workspace_create(name=form.cleaned_data["name"], owner=request.user)
        select_workspace(request, workspace.memberships.get(user=request.user))
        return redirect("dashboard:overview")


class WorkspaceSwitchView(LoginRequiredMixin, View):
    def post(self, request):
        membership = selectors.membership_get(user=request.user, workspace_public_id=request.POST.get("workspace", ""))
        if membership is None:
            raise Http404("No such workspace.")
        select_workspace(request, membership)
        return redirect("dashboard:overview")


class SettingsView(MemberRequiredMixin, View):
    template_name = "workspaces/settings.html"
    manage_required = True

    def get(self, request):
        return render(request, self.template_name, {"form": forms.WorkspaceSettingsForm(instance=self.workspace)})

    def post(self, request):
        form = forms.WorkspaceSettingsForm(request.POST, instance=self.workspace)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        services.workspace_update(workspace=self.workspace, data=form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("workspaces:settings")


class MembersView(MemberRequiredMixin, View):
    template_name = "workspaces/members.html"
    manage_required = True

    def get(self, request, form=None, status=200):
        context = {
            "members": selectors.membership_list(workspace=self.workspace),
            "form": form or forms.MemberAddForm(),
            "roles": forms.Role.choices,
        }
        return render(request, self.template_name, context, status=status)

    def post(self, request):
        form = forms.MemberAddForm(request.POST)
        if form.is_valid():
            try:
                membership = services.membership_add(workspace=self.workspace, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error("email", error.message)
            else:
                messages.success(request, f"{membership.user.email} added as {membership.get_role_display()}.")
                return redirect("workspaces:members")
        return self.get(request, form=form, status=400)


class MemberRoleView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, pk: int):
        membership = get_object_or_404(Membership, pk=pk, workspace=self.workspace)
        form = forms.MemberRoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a valid role.")
        else:
            try:
                services.membership_set_role(membership=membership, role=form.cleaned_data["role"])
                messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
            except ApplicationError as error:
                messages.error(request, error.message)
        return redirect("workspaces:members")


class ApiKeysView(MemberRequiredMixin, View):
    template_name = "workspaces/api_keys.html"
    manage_required = True

    def get(self, request, form=None, issued=None, status=200):
        context = {
            "api_keys": selectors.api_key_list(workspace=self.workspace),
            "form": form or forms.ApiKeyCreateForm(),
            "issued": issued,
        }
        return render(request, self.template_name, context, status=status)

    def post(self, request):
        form = forms.ApiKeyCreateForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        issued = services.api_key_create(
            workspace=self.workspace, name=form.cleaned_data["name"], created_by=request.user
        )
        # Rendered in this response only: the key is never retrievable again.
        return self.get(request, issued=issued)


class ApiKeyRevokeView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, pk: int):
        api_key = get_object_or_404(ApiKey, pk=pk, workspace=self.workspace)
        services.api_key_revoke(api_key=api_key)
        messages.success(request, f"Key “{api_key.name}” revoked.")
        return redirect("workspaces:api_keys")


def _events(count: int) -> str:
    return f"{number_display(count)} event{'' if count == 1 else 's'}"


def usage_chart(days) -> BarChart:
    slots = [Slot(n, number_display(n), day_display(day), f"{day_display(day)}: {_events(n)}") for day, n in days]
    bars, scale_label = bar_layout(slots, scale_label=number_display)
    return BarChart(bars=bars, scale_label=scale_label)


class UsageView(MemberRequiredMixin, View):
    """The plan, this month's events against its limit, per day, and how to upgrade."""

    template_name = "workspaces/usage.html"

    def get(self, request):
        context = {
            "usage": usage_summary(workspace=self.workspace),
            "chart": usage_chart(usage_days(workspace_id=self.workspace.pk)),
            "billing_enabled": billing_enabled(),
            "checkout": request.GET.get("checkout", ""),
            "free_quota": FREE_MONTHLY_EVENTS,
        }
        return render(request, self.template_name, context)
