from decimal import Decimal

from django import forms

from affiliates.models import CommissionStatus, Partner, PayoutMethod, PayoutSettings, Program
from affiliates.services.programs import PROGRAM_FIELDS
from trackrev.common.money import currency_exponent, decimal_to_minor, minor_to_decimal


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(max_length=254)
    note = forms.CharField(
        label="How will you promote us?", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ProgramForm(forms.ModelForm):
    """Every program field; the minimum payout is entered in the currency's units (50.00) and handed to the
    services in its minor units (5000)."""

    destination_url = forms.URLField(
        max_length=500, assume_scheme="https", help_text=Program._meta.get_field("destination_url").help_text
    )
    minimum_payout = forms.DecimalField(
        min_value=0,
        max_digits=16,
        decimal_places=4,
        initial=0,
        help_text="In the program's currency, e.g. 50.00: a smaller monthly total carries forward.",
    )
    field_order = [name if name != "minimum_payout_minor" else "minimum_payout" for name in PROGRAM_FIELDS]

    class Meta:
        model = Program
        fields = [name for name in PROGRAM_FIELDS if name != "minimum_payout_minor"]
        help_texts = {
            "commission_value": "Percent: 20 is 20 % of net revenue. Flat: an amount in the program's currency.",
            "recurring_months": "Needed when orders earn for N months.",
            "currency": "ISO code, e.g. USD.",
        }
        widgets = {"terms": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "minimum_payout", minor_to_decimal(self.instance.minimum_payout_minor, self.instance.currency)
            )

    def clean(self):
        data = super().clean()
        amount, currency = data.get("minimum_payout"), (data.get("currency") or "").upper()
        if amount is not None and currency:
            places = currency_exponent(currency)
            if amount != amount.quantize(Decimal(1).scaleb(-places)):
                self.add_error("minimum_payout", f"{currency} amounts have {places} decimal places at most.")
            else:
                data["minimum_payout_minor"] = decimal_to_minor(amount, currency)
        return data

    def program_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PROGRAM_FIELDS}


class PayoutDetailsForm(forms.Form):
    """What each payout method needs (`payout_details_validate` checks the chosen one's): shared by the
    workspace's partner form and the partner's own payout settings."""

    paypal_email = forms.EmailField(label="PayPal email", required=False, help_text="For PayPal payouts.")
    stripe_account = forms.CharField(
        label="Stripe connected account id", max_length=64, required=False, help_text="For Stripe payouts: acct_…"
    )
    instructions = forms.CharField(
        label="Transfer instructions",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For manual transfers, e.g. the bank account.",
    )

    def payout_details(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("paypal_email", "stripe_account", "instructions")}


class PartnerForm(PayoutDetailsForm):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(max_length=254)
    code = forms.SlugField(max_length=40, required=False, help_text="Their link's /r/ code. Blank: made from the name.")
    payout_method = forms.ChoiceField(choices=PayoutMethod.choices, initial=PayoutMethod.MANUAL)
    field_order = ["name", "email", "code", "payout_method"]

    def partner_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("name", "email", "code", "payout_method")}
        return data | {"payout_details": self.payout_details()}


class DiscountCodeForm(forms.Form):
    code = forms.CharField(label="Discount code", max_length=100)


class CommissionFilterForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), required=False, empty_label="All programs")
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False, empty_label="All partners")
    status = forms.ChoiceField(choices=[("", "Any status"), *CommissionStatus.choices], required=False)

    def __init__(self, *args, programs, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["partner"].queryset = partners


class PayoutsRunForm(forms.Form):
    period = forms.CharField(
        label="Month", max_length=7, widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    )


class PayPalSettingsForm(forms.Form):
    """The secret is write-only: never rendered back; blank keeps the stored one."""

    paypal_client_id = forms.CharField(label="PayPal client id", max_length=200, required=False)
    paypal_client_secret = forms.CharField(
        label="PayPal client secret",
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave blank to keep the stored one.",
    )
    paypal_mode = forms.ChoiceField(
        label="PayPal mode", choices=PayoutSettings.Mode.choices, initial=PayoutSettings.Mode.LIVE
    )
