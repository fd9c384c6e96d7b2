import zoneinfo

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import validate_domain_name

from trackrev.common import throttle
from trackrev.common.client_ip import client_ip
from trackrev.workspaces.models import Role, Workspace

THROTTLE_SCOPE = "login"  # one for the dashboard's and the admin's forms: the same accounts


class ThrottledLoginMixin:
    """Refuses an AuthenticationForm while its email and client address are throttled
    (trackrev/common/throttle.py, error code "throttled"), and counts each failure."""

    def clean(self):
        email = self.cleaned_data.get("username")
        if not email:  # no password was tried
            return super().clean()
        who = {"scope": THROTTLE_SCOPE, "email": email, "ip": client_ip(self.request)}
        if throttle.login_throttled(**who):
            raise forms.ValidationError(throttle.THROTTLED, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.login_failed(**who)
            raise
        throttle.login_succeeded(**who)
        return cleaned


class EmailAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignUpForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, strip=False)
    workspace_name = forms.CharField(max_length=120, label="Company or product name")

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Company or product name")


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="Where the key will be used, e.g. “Zapier”.")


class WorkspaceSettingsForm(forms.ModelForm):
    allowed_domains = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One domain per line (subdomains included). Leave empty to accept hits from any site.",
    )

    class Meta:
        model = Workspace
        fields = ["name", "timezone", "allowed_domains", "attribution_model", "lookback_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["allowed_domains"] = "\n".join(self.instance.allowed_domains or [])

    def clean_timezone(self):
        tz = self.cleaned_data["timezone"]
        if tz not in zoneinfo.available_timezones():
            raise forms.ValidationError("Unknown time zone.")
        return tz

    def clean_allowed_domains(self):
        domains = []
        for line in self.cleaned_data["allowed_domains"].splitlines():
            domain = line.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
            if not domain:
                continue
            try:
                validate_domain_name(domain)
            except forms.ValidationError:
                raise forms.ValidationError(f"“{domain}” is not a domain name.") from None
            domains.append(domain)
        return sorted(set(domains))
