"""Dashboard filters (GET forms: every view works without JavaScript and has a shareable URL)."""

from datetime import date, timedelta

from django import forms

from attribution.selectors.reports import GROUP_BY
from integrations.models import OrderKind, OrderStatus
from integrations.processors.registry import processor_choices
from trackrev.workspaces.models import AttributionModel

MAX_RANGE_DAYS = 731
RANGE_CHOICES = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("mtd", "Month to date"),
    ("custom", "Custom"),
]
GROUP_CHOICES = [("channel", "Channel"), ("channel_group", "Channel group"), ("campaign", "Campaign")]
assert tuple(c for c, _ in GROUP_CHOICES) == GROUP_BY


def _dates_check(form: forms.Form) -> None:
    """A period's errors go on its date fields, where the page shows them (a field that did not parse
    has its own error already)."""
    start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    for name, value, message in (("start", start, "Choose a start date."), ("end", end, "Choose an end date.")):
        if value is None and not form.has_error(name):
            form.add_error(name, message)
    if start and end and start > end:
        form.add_error("end", "Must be on or after the start date.")
    elif start and end and (end - start).days >= MAX_RANGE_DAYS:
        form.add_error("end", f"A period may cover at most {MAX_RANGE_DAYS} days.")


class ReportFilterForm(forms.Form):
    model = forms.ChoiceField(choices=AttributionModel.choices, required=False)
    processor = forms.ChoiceField(choices=lambda: [("", "All processors"), *processor_choices()], required=False)
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, label="Period")
    start = forms.DateField(required=False, label="From (custom)", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To (custom)", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(choices=GROUP_CHOICES, required=False, label="Group by")
    compare = forms.BooleanField(required=False, label="Compare models")

    def __init__(self, *args, workspace, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.today = workspace, today

    def clean(self):
        data = super().clean()
        data["model"] = data.get("model") or self.workspace.attribution_model
        data["processor"] = data.get("processor") or None
        data["group_by"] = data.get("group_by") or "channel"
        preset = data.get("range") or "30"
        data["range"] = preset
        if preset == "custom":
            _dates_check(self)
        elif preset == "mtd":
            data["start"], data["end"] = self.today.replace(day=1), self.today
        else:
            data["start"], data["end"] = self.today - timedelta(days=int(preset) - 1), self.today
        return data


class OrderFilterForm(forms.Form):
    processor = forms.ChoiceField(choices=lambda: [("", "All processors"), *processor_choices()], required=False)
    kind = forms.ChoiceField(choices=[("", "All kinds"), *OrderKind.choices], required=False)
    status = forms.ChoiceField(choices=[("", "All statuses"), *OrderStatus.choices], required=False)
    channel = forms.CharField(required=False, max_length=100, help_text="Credited channel (default model).")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            _dates_check(self)
        return data
