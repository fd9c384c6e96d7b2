"""Dashboard filters (GET forms: every view works without JavaScript and has a shareable URL)."""

from datetime import date, timedelta

from django import forms

from attribution.selectors.reports import GROUP_BY
from integrations.models import OrderKind, OrderStatus, Processor
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


class ReportFilterForm(forms.Form):
    model = forms.ChoiceField(choices=AttributionModel.choices, required=False)
    processor = forms.ChoiceField(choices=[("", "All processors"), *Processor.choices], required=False)
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, label="Period")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
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
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Choose a start and an end date for a custom period.")
            if start > end:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if (end - start).days >= MAX_RANGE_DAYS:
                raise forms.ValidationError(f"A period may cover at most {MAX_RANGE_DAYS} days.")
        elif preset == "mtd":
            data["start"], data["end"] = self.today.replace(day=1), self.today
        else:
            data["start"], data["end"] = self.today - timedelta(days=int(preset) - 1), self.today
        return data


class OrderFilterForm(forms.Form):
    processor = forms.ChoiceField(choices=[("", "All processors"), *Processor.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "All kinds"), *OrderKind.choices], required=False)
    status = forms.ChoiceField(choices=[("", "All statuses"), *OrderStatus.choices], required=False)
    channel = forms.CharField(required=False, max_length=100, help_text="Credited channel (default model).")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must be on or before the end date.")
        return data
