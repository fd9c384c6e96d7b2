"""Settings → Channels: the workspace's own channel rules, a preview against the last 30 days,
and re-applying the rules to history (thin views: form → one service or selector)."""

from celery import current_app
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from attribution.models import ChannelRule, RuleField, RuleOperator
from attribution.selectors.channels import PREVIEW_DAYS, channel_rule_list, channel_rules_preview
from attribution.services.channels import (
    CHANNEL_GROUPS,
    RECLASSIFY_TASK,
    channel_rule_create,
    channel_rule_delete,
    channel_rule_validate,
)
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.access import MemberRequiredMixin


class ChannelRuleForm(forms.Form):
    field = forms.ChoiceField(label="When", choices=RuleField.choices)
    operator = forms.ChoiceField(label="Compared", choices=RuleOperator.choices)
    value = forms.CharField(label="Value", max_length=200, help_text="Case-insensitive.")
    channel = forms.CharField(label="Channel", max_length=100, help_text="The name shown in reports.")
    channel_group = forms.ChoiceField(label="Channel group", choices=[(g, g) for g in CHANNEL_GROUPS])


class ChannelRulesView(MemberRequiredMixin, View):
    template_name = "attribution/channel_rules.html"
    manage_required = True

    def get(self, request, form=None, preview=None, status=200):
        context = {
            "rules": channel_rule_list(workspace=self.workspace),
            "form": form or ChannelRuleForm(),
            "preview": preview,
            "preview_days": PREVIEW_DAYS,
        }
        return render(request, self.template_name, context, status=status)

    def post(self, request):
        form = ChannelRuleForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        try:
            if request.POST.get("action") == "preview":
                channel_rule_validate(**form.cleaned_data)
                draft = ChannelRule(workspace=self.workspace, **form.cleaned_data)
                preview = channel_rules_preview(workspace=self.workspace, draft=draft)
                return self.get(request, form=form, preview=preview)
            rule = channel_rule_create(workspace=self.workspace, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.get(request, form=form, status=400)
        messages.success(request, f"Rule added: {rule}. Past touches are being re-labelled in the background.")
        return redirect("channels:rules")


class ChannelRuleDeleteView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request, pk: int):
        rule = get_object_or_404(ChannelRule, pk=pk, workspace=self.workspace)
        channel_rule_delete(rule=rule)
        messages.success(request, "Rule removed. Past touches are being re-labelled in the background.")
        return redirect("channels:rules")


class ChannelRulesReapplyView(MemberRequiredMixin, View):
    manage_required = True

    def post(self, request):
        current_app.send_task(RECLASSIFY_TASK, args=[self.workspace.pk])
        messages.success(request, "Re-applying the channel rules to every stored touch in the background.")
        return redirect("channels:rules")
