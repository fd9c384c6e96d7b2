"""The customer dashboard: overview (chart, channels table, model comparison, CSV), orders (listed and
exported) with the explanation of each credit, and the workspace settings that trigger a recompute.
Thin: a form for the filters, selectors for the numbers."""

import csv
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from attribution.apis import EXPORT_CONTENT_TYPES, order_export_response
from attribution.charts import revenue_chart
from attribution.credit_models import MODELS, WEIGHT_SCALE
from attribution.forms import OrderFilterForm, ReportFilterForm
from attribution.selectors.orders import order_explain, order_get, order_list, order_partners
from attribution.selectors.reports import (
    REPORT_CURRENCY,
    channel_report,
    model_comparison,
    native_totals,
    revenue_daily,
    workspace_has_reports,
    workspace_today,
)
from integrations.processors.registry import ADAPTERS
from trackrev.common.display import day_range_display, number_display, percent_display
from trackrev.common.downloads import csv_attachment
from trackrev.common.money import money_format
from trackrev.workspaces.access import MemberRequiredMixin
from trackrev.workspaces.models import AttributionModel
from trackrev.workspaces.services import workspace_pixel_proxy_secret_rotate
from trackrev.workspaces.views import SettingsView

MODEL_LABELS = dict(AttributionModel.choices)
PROCESSOR_LABELS = {key: adapter.display_name for key, adapter in ADAPTERS.items()}
GROUP_LABELS = {
    "channel": ("Channel", "channels"),
    "channel_group": ("Channel group", "channel groups"),
    "campaign": ("Campaign", "campaigns"),
}


def _filters(request, workspace) -> ReportFilterForm:
    """The filter form bound to the query merged over the defaults, so that it shows what is reported.
    An invalid one reports nothing: its errors say what to fix, next to the fields, with the input kept."""
    data = {"model": workspace.attribution_model, "range": "30", "group_by": "channel", **request.GET.dict()}
    form = ReportFilterForm(data, workspace=workspace, today=workspace_today(workspace))
    form.is_valid()
    return form


def _invalid_filters(errors: dict) -> HttpResponseBadRequest:
    """A download's answer to filters the page would mark: what to fix, in words."""
    listed = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return HttpResponseBadRequest(f"Invalid filters ({listed})", content_type="text/plain; charset=utf-8")


def _period_label(params) -> str:
    if params["range"] == "custom":
        return day_range_display(params["start"], params["end"])
    if params["range"] == "mtd":
        return "month to date"
    return f"last {(params['end'] - params['start']).days + 1} days"


def _conversion_places(report) -> int:
    """Whole numbers when every count of the table is whole (single-touch models credit whole orders),
    two decimals when credit is split: one format for the rows, the total and the CSV."""
    return 0 if all(r.conversions % WEIGHT_SCALE == 0 for r in report.rows) else 2


def _conversions(millionths: int) -> Decimal:
    return Decimal(millionths) / WEIGHT_SCALE


class OverviewView(MemberRequiredMixin, View):
    def get(self, request):
        form = _filters(request, self.workspace)
        context = {"form": form, "query": request.GET.urlencode()}
        if form.is_valid():
            context.update(self._report(form.cleaned_data))
        return render(request, "attribution/overview.html", context)

    def _report(self, p) -> dict:
        currency = REPORT_CURRENCY
        report = channel_report(
            workspace=self.workspace,
            start=p["start"],
            end=p["end"],
            model=p["model"],
            processor=p["processor"],
            group_by=p["group_by"],
        )
        chart = revenue_chart(
            revenue_daily(
                workspace=self.workspace, start=p["start"], end=p["end"], model=p["model"], processor=p["processor"]
            ),
            currency,
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
        places = _conversion_places(report)
        return {
            "params": p,
            "period": _period_label(p),
            "dates": day_range_display(p["start"], p["end"]),
            "model_label": MODEL_LABELS[p["model"]],
            "processor_label": PROCESSOR_LABELS.get(p["processor"], "All processors"),
            "group_label": GROUP_LABELS[p["group_by"]][0],
            "group_plural": GROUP_LABELS[p["group_by"]][1],
            "currency": currency,
            "first_run": not report.rows and not workspace_has_reports(workspace=self.workspace),
            "rows": [
                {
                    "name": r.name,
                    "visitors": r.visitors,
                    "conversions": number_display(_conversions(r.conversions), places),
                    "revenue_usd_minor": r.revenue_usd_minor,
                    "share": percent_display(r.share),
                }
                for r in report.rows
            ],
            "totals": {
                "visitors": report.visitors,
                "conversions": number_display(_conversions(report.conversions), places),
                "revenue_usd_minor": report.revenue_usd_minor,
            },
            # A visitor counts once per channel that brought them, and once in the total.
            "visitors_overlap": sum(r.visitors for r in report.rows) > report.visitors,
            "chart": chart,
            "models": [(m, MODEL_LABELS[m]) for m in MODELS],
            "comparison": [
                {"name": row.name, "values": [row.revenue_usd_minor.get(m, 0) for m in MODELS]} for row in comparison
            ],
            "native": [
                (PROCESSOR_LABELS.get(processor, processor), cur, amount)
                for processor, cur, amount in native_totals(
                    workspace=self.workspace, start=p["start"], end=p["end"], processor=p["processor"]
                )
            ],
        }


class OverviewExportView(MemberRequiredMixin, View):
    """The overview's table as CSV, for the same filters (the comparison when it is shown)."""

    def get(self, request):
        form = _filters(request, self.workspace)
        if not form.is_valid():
            return _invalid_filters(form.errors)
        p = form.cleaned_data
        currency = REPORT_CURRENCY
        filename = f"trackrev-{p['group_by']}-{p['start']}-{p['end']}{'-compare' if p['compare'] else ''}.csv"
        response = csv_attachment(filename=filename)
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
        places = _conversion_places(report)
        writer.writerow([p["group_by"], "visitors", "conversions", f"revenue_{currency.lower()}", "share"])
        for r in report.rows:
            writer.writerow(
                [
                    r.name,
                    r.visitors,
                    f"{_conversions(r.conversions):.{places}f}",
                    money_format(r.revenue_usd_minor, currency),
                    f"{r.share * 100:.1f}",
                ]
            )
        total_share = "100.0" if report.revenue_usd_minor else "0.0"
        writer.writerow(
            [
                "Total",
                report.visitors,
                f"{_conversions(report.conversions):.{places}f}",
                money_format(report.revenue_usd_minor, currency),
                total_share,
            ]
        )
        return response


class OrdersView(MemberRequiredMixin, View):
    def get(self, request):
        form = OrderFilterForm(request.GET or None)
        context = {"form": form, "model_label": MODEL_LABELS[self.workspace.attribution_model]}
        if form.is_bound and not form.is_valid():  # the errors say what to fix; no list until then
            return render(request, "attribution/orders.html", context)
        filters = form.cleaned_data if form.is_bound else {}
        page = Paginator(order_list(workspace=self.workspace, filters=filters), 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context |= {
            "page": page,
            "query": query.urlencode(),
            "orders": [
                {
                    "order": o,
                    "processor": PROCESSOR_LABELS.get(o.processor, o.processor),
                    "channels": [c.channel for c in o.shown_credits],
                }
                for o in page.object_list
            ],
        }
        return render(request, "attribution/orders.html", context)


class OrdersExportView(MemberRequiredMixin, View):
    """The Orders page's list, every page of it, as the API's export streams it (`format`: csv or ndjson)."""

    def get(self, request):
        form = OrderFilterForm(request.GET)
        fmt = request.GET.get("format") or "csv"
        errors = {} if form.is_valid() else dict(form.errors)
        if fmt not in EXPORT_CONTENT_TYPES:
            errors["format"] = [f"Choose one of {', '.join(EXPORT_CONTENT_TYPES)}."]
        if errors:
            return _invalid_filters(errors)
        return order_export_response(workspace=self.workspace, filters=form.cleaned_data, fmt=fmt)


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
            "path": [
                {"touch": step.touch, "weights": [percent_display(step.weights[m] / WEIGHT_SCALE) for m in MODELS]}
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
                            "weight": percent_display(c.weight / WEIGHT_SCALE),
                            "revenue_usd_minor": c.revenue_usd_minor,
                        }
                        for c in explanation.credits[m]
                    ],
                )
                for m in MODELS
            ],
            "refunds": order.refunds.order_by("refunded_at"),
            "is_renewal_copy": explanation.credited_order.pk != order.pk,
            "partner": order_partners(workspace=self.workspace, order_ids=[order.pk]).get(order.pk),
        }
        return render(request, "attribution/order_detail.html", context)


class WorkspaceSettingsView(SettingsView):
    """The workspace settings page (served at the same URL) with the progress of the recompute that a
    change of lookback or time zone starts (workspace_update → attribution.workspace_settings_changed)."""

    template_name = "attribution/settings.html"


class PixelProxySecretRotateView(MemberRequiredMixin, View):
    """The Integrations page's "Rotate" of the first-party proxy secret (owners and admins)."""

    manage_required = True

    def post(self, request):
        workspace_pixel_proxy_secret_rotate(workspace=self.workspace)
        messages.success(
            request,
            "New proxy secret: put it in your proxy's X-TrackRev-Proxy header. Hits with the old one count as direct.",
        )
        return redirect(reverse("integrations:index") + "#pixel-proxy")
