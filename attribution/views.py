"""The customer dashboard: overview (chart, channels table, model comparison, CSV), orders with the
explanation of each credit, and the workspace settings that trigger a recompute. Thin: a form for
the filters, selectors for the numbers."""

import csv
from datetime import timedelta

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views import View

from attribution.charts import HEIGHT, WIDTH, bar_chart
from attribution.credit_models import MODELS, WEIGHT_SCALE
from attribution.forms import OrderFilterForm, ReportFilterForm
from attribution.selectors.orders import order_explain, order_get, order_list
from attribution.selectors.reports import (
    REPORT_CURRENCY,
    channel_report,
    model_comparison,
    native_totals,
    revenue_daily,
    workspace_today,
)
from integrations.models import Processor
from trackrev.common.money import money_display, money_format
from trackrev.workspaces.access import MemberRequiredMixin
from trackrev.workspaces.models import AttributionModel
from trackrev.workspaces.views import SettingsView

MODEL_LABELS = dict(AttributionModel.choices)
PROCESSOR_LABELS = dict(Processor.choices)
GROUP_LABELS = {
    "channel": ("Channel", "channels"),
    "channel_group": ("Channel group", "channel groups"),
    "campaign": ("Campaign", "campaigns"),
}


def _filters(request, workspace):
    """The filter form bound to the query merged over the defaults, so that it shows what is reported."""
    today = workspace_today(workspace)
    data = {"model": workspace.attribution_model, "range": "30", "group_by": "channel", **request.GET.dict()}
    form = ReportFilterForm(data, workspace=workspace, today=today)
    if form.is_valid():
        return form, form.cleaned_data
    fallback = ReportFilterForm({}, workspace=workspace, today=today)
    fallback.is_valid()
    return form, fallback.cleaned_data


def _period_label(params) -> str:
    days = (params["end"] - params["start"]).days + 1
    return {"mtd": "month to date", "custom": f"{params['start']:%b %-d} to {params['end']:%b %-d}"}.get(
        params["range"], f"{days} days"
    )


class OverviewView(MemberRequiredMixin, View):
    def get(self, request):
        form, p = _filters(request, self.workspace)
        currency = REPORT_CURRENCY
        report = channel_report(
            workspace=self.workspace,
            start=p["start"],
            end=p["end"],
            model=p["model"],
            processor=p["processor"],
            group_by=p["group_by"],
        )
        today = workspace_today(self.workspace)
        days = revenue_daily(
            workspace=self.workspace,
            start=today - timedelta(days=9),
            end=today,
            model=p["model"],
            processor=p["processor"],
        )
        comparison = (
            model_comparison(
                workspace=self.workspace,
                start=p["start"],
                end=p["end"],
                processor=p["processor"],
                group_by=p["group_by"],
            )
            if p["compare"]
            else []
        )
        context = {
            "form": form,
            "params": p,
            "period": _period_label(p),
            "model_label": MODEL_LABELS[p["model"]],
            "processor_label": PROCESSOR_LABELS.get(p["processor"], "All processors"),
            "group_label": GROUP_LABELS[p["group_by"]][0],
            "group_plural": GROUP_LABELS[p["group_by"]][1],
            "currency": currency,
            "report": report,
            "rows": [
                {
                    "name": r.name,
                    "visitors": r.visitors,
                    "conversions": f"{r.conversions / WEIGHT_SCALE:.2f}",
                    "revenue": money_format(r.revenue_usd_minor, currency),
                    "share": f"{r.share:.1%}",
                }
                for r in report.rows
            ],
            "totals": {
                "visitors": report.visitors,
                "conversions": f"{report.conversions / WEIGHT_SCALE:.2f}",
                "revenue": money_format(report.revenue_usd_minor, currency),
            },
            "chart": bar_chart(
                [(f"{d.date:%b %-d}", d.revenue_usd_minor, money_format(d.revenue_usd_minor, currency)) for d in days]
            ),
            "chart_total": money_format(sum(d.revenue_usd_minor for d in days), currency),
            "chart_width": WIDTH,
            "chart_height": HEIGHT,
            "models": [(m, MODEL_LABELS[m]) for m in MODELS],
            "comparison": [
                {"name": row.name, "values": [money_format(row.revenue_usd_minor.get(m, 0), currency) for m in MODELS]}
                for row in comparison
            ],
            "native": [
                (PROCESSOR_LABELS.get(processor, processor), cur, money_format(amount, cur))
                for processor, cur, amount in native_totals(
                    workspace=self.workspace, start=p["start"], end=p["end"], processor=p["processor"]
                )
            ],
            "query": request.GET.urlencode(),
        }
        return render(request, "attribution/overview.html", context)


class OverviewExportView(MemberRequiredMixin, View):
    """The overview's table as CSV, for the same filters (the comparison when it is shown)."""

    def get(self, request):
        _, p = _filters(request, self.workspace)
        currency = REPORT_CURRENCY
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"trackrev-{p['group_by']}-{p['start']}-{p['end']}{'-compare' if p['compare'] else ''}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        if p["compare"]:
            writer.writerow([p["group_by"], *(f"revenue_{m}_{currency.lower()}" for m in MODELS)])
            for row in model_comparison(
                workspace=self.workspace,
                start=p["start"],
                end=p["end"],
                processor=p["processor"],
                group_by=p["group_by"],
            ):
                writer.writerow([row.name, *(money_format(row.revenue_usd_minor.get(m, 0), currency) for m in MODELS)])
            return response
        report = channel_report(
            workspace=self.workspace,
            start=p["start"],
            end=p["end"],
            model=p["model"],
            processor=p["processor"],
            group_by=p["group_by"],
        )
        writer.writerow([p["group_by"], "visitors", "conversions", f"revenue_{currency.lower()}", "share"])
        for r in report.rows:
            writer.writerow(
                [
                    r.name,
                    r.visitors,
                    f"{r.conversions / WEIGHT_SCALE:.2f}",
                    money_format(r.revenue_usd_minor, currency),
                    f"{r.share * 100:.1f}",
                ]
            )
        total_share = "100.0" if report.revenue_usd_minor else "0.0"
        writer.writerow(
            [
                "Total",
                report.visitors,
                f"{report.conversions / WEIGHT_SCALE:.2f}",
                money_format(report.revenue_usd_minor, currency),
                total_share,
            ]
        )
        return response


class OrdersView(MemberRequiredMixin, View):
    def get(self, request):
        form = OrderFilterForm(request.GET or None)
        filters = form.cleaned_data if request.GET and form.is_valid() else {}
        page = Paginator(order_list(workspace=self.workspace, filters=filters), 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "model_label": MODEL_LABELS[self.workspace.attribution_model],
            "orders": [
                {
                    "order": o,
                    "processor": PROCESSOR_LABELS.get(o.processor, o.processor),
                    "amount": money_display(o.amount_minor, o.currency),
                    "amount_usd": money_format(o.amount_usd_minor, "USD"),
                    "refunded": money_display(o.refunded_minor, o.currency) if o.refunded_minor else "",
                    "channels": [c.channel for c in o.shown_credits],
                }
                for o in page.object_list
            ],
        }
        return render(request, "attribution/orders.html", context)


class OrderDetailView(MemberRequiredMixin, View):
    def get(self, request, order_id: int):
        order = order_get(workspace=self.workspace, order_id=order_id)
        if order is None:
            raise Http404("No such order.")
        explanation = order_explain(workspace=self.workspace, order=order)
        context = {
            "order": order,
            "processor": PROCESSOR_LABELS.get(order.processor, order.processor),
            "explanation": explanation,
            "models": [(m, MODEL_LABELS[m]) for m in MODELS],
            "amount": money_display(order.amount_minor, order.currency),
            "amount_usd": money_display(order.amount_usd_minor, "USD"),
            "refunded": money_display(order.refunded_minor, order.currency),
            "path": [
                {"touch": step.touch, "weights": [f"{step.weights[m] / WEIGHT_SCALE:.1%}" for m in MODELS]}
                for step in explanation.path
            ],
            "credits": [
                (
                    MODEL_LABELS[m],
                    [
                        {
                            "channel": c.channel,
                            "group": c.channel_group,
                            "campaign": c.campaign,
                            "weight": f"{c.weight / WEIGHT_SCALE:.1%}",
                            "revenue": money_format(c.revenue_usd_minor, "USD"),
                        }
                        for c in explanation.credits[m]
                    ],
                )
                for m in MODELS
            ],
            "refunds": [(r, money_display(r.amount_minor, r.currency)) for r in order.refunds.order_by("refunded_at")],
            "is_renewal_copy": explanation.credited_order.pk != order.pk,
        }
        return render(request, "attribution/order_detail.html", context)


class WorkspaceSettingsView(SettingsView):
    """The workspace settings page (served at the same URL) with the progress of the recompute that a
    change of lookback or time zone starts (workspace_update → attribution.workspace_settings_changed)."""

    template_name = "attribution/settings.html"
