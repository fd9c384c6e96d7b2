"""The partner portal's forms: they parse; the rules live in portal_access and the services."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation

from affiliates.forms import PayoutDetailsForm
from affiliates.models import CommissionStatus, PartnerAccount, PayoutMethod


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class ForgotForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="New password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, account: PartnerAccount, *args, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first, self.account)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LinkForm(forms.Form):
    slug = forms.CharField(label="Name", max_length=40, help_text="Letters, digits and dashes: it ends the link.")
    url = forms.URLField(label="Page", max_length=500, assume_scheme="https", help_text="A page of the program's site.")


class CommissionFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "All"), *CommissionStatus.choices], required=False)


def _methods() -> list[tuple[str, str]]:
    offered = [PayoutMethod.PAYPAL, PayoutMethod.MANUAL]
    if settings.STRIPE_PAYOUTS_API_KEY:
        offered.insert(1, PayoutMethod.STRIPE)
    return [(method.value, method.label) for method in offered]


class PayoutSettingsForm(PayoutDetailsForm):
    method = forms.ChoiceField(label="Payout method", choices=_methods)
    field_order = ["method"]
