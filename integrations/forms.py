from django import forms

from integrations.models import EventType
from integrations.processors.registry import adapter_class
from integrations.services.outbound_webhooks import endpoint_url_validate
from integrations.validators import api_base_url_validate


class ConnectionForm(forms.Form):
    """Token and secret are write-only: never prefilled, blank on an existing connection keeps them.
    Then the options the processor's adapter declares."""

    api_token = forms.CharField(
        label="API token",
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    webhook_secret = forms.CharField(
        label="Webhook secret",
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    api_base_url = forms.URLField(label="API base URL", max_length=300, required=False, assume_scheme="https")

    def __init__(self, *args, processor: str, existing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.processor = processor
        self.declared = adapter_class(processor).connection_options
        for option in self.declared:
            self.fields[option.name] = forms.CharField(
                label=option.label, help_text=option.help_text, required=False, validators=option.validators()
            )
        if existing:
            for name in ("api_token", "webhook_secret"):
                self.fields[name].required = False
                self.fields[name].help_text = "Leave blank to keep the stored one."

    def clean_api_base_url(self) -> str:
        url = self.cleaned_data["api_base_url"]
        if url:  # blank: the processor's production API
            api_base_url_validate(processor=self.processor, url=url)
        return url

    def options(self) -> dict:
        return {option.name: value for option in self.declared if (value := self.cleaned_data.get(option.name))}


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="Endpoint URL",
        max_length=1000,
        assume_scheme="https",
        help_text="https, on a public address. TrackRev POSTs signed JSON to it.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(value, f"{value}: {label}") for value, label in EventType.choices],
        widget=forms.CheckboxSelectMultiple,
        initial=[EventType.SALE_CREATED, EventType.SALE_UPDATED, EventType.SALE_REFUNDED],
        error_messages={"required": "Choose at least one event."},
    )

    def clean_url(self) -> str:
        return endpoint_url_validate(self.cleaned_data["url"])
