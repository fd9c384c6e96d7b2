"""Attribution's API (CONTRACTS.md §5): channel and daily revenue reports read from the rollups, orders
with their credits (listed, or exported as a streamed file), and the server-side identify."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from attribution.credit_models import LAST_TOUCH, MODELS, WEIGHT_SCALE, weight_text
from attribution.models import Credit, IdentitySource
from attribution.models.pixel import VISITOR_ID_MAX
from attribution.pixel.wire import EMAIL_MAX, VISITOR_ID
from attribution.selectors.orders import order_partners
from attribution.selectors.orders_export import order_export_batches
from attribution.selectors.reports import (
    GROUP_BY,
    REPORT_CURRENCY,
    channel_report,
    revenue_daily,
    served_version,
    workspace_today,
)
from attribution.services.pixel import identity_bind
from integrations.apis import OrderListApi, OrderOutputSerializer
from integrations.processors.registry import processor_choices
from trackrev.common.downloads import streamed_attachment
from trackrev.common.money import money_format
from trackrev.workspaces.apis import WorkspaceApiView
from trackrev.workspaces.serializer_fields import ApiDateField

MAX_RANGE_DAYS = 731


def conversions_format(millionths: int) -> str:
    """Fractional conversions (multi-touch models split an order) as a two-decimal string."""
    return money_format(round(millionths * 100 / WEIGHT_SCALE), "USD")


class PeriodInputSerializer(serializers.Serializer):
    """A period of workspace days (the reports' and the export's): default the last `default_days` days."""

    default_days = 30
    start = ApiDateField(
        required=False,
        help_text=f"First day, inclusive, in the workspace's time zone; at most {MAX_RANGE_DAYS} days before `end`.",
    )
    end = ApiDateField(
        required=False,
        help_text="Last day, inclusive; not before `start`. Default: today, or `start` if that is later.",
    )
    processor = serializers.ChoiceField(choices=processor_choices(), required=False)

    def validate(self, attrs):
        today = workspace_today(self.context["workspace"])
        if "start" in attrs and "end" not in attrs and "days" not in attrs:
            attrs["end"] = max(today, attrs["start"])
        attrs.setdefault("end", today)
        attrs.setdefault("start", attrs["end"] - timedelta(days=attrs.get("days", self.default_days) - 1))
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["Must be on or before end."]})
        if (attrs["end"] - attrs["start"]).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError({"start": [f"The range may cover at most {MAX_RANGE_DAYS} days."]})
        attrs.setdefault("processor", None)
        return attrs


class ReportInputSerializer(PeriodInputSerializer):
    model = serializers.ChoiceField(choices=MODELS, required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs.setdefault("model", self.context["workspace"].attribution_model)
        return attrs


class ChannelsInputSerializer(ReportInputSerializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY, required=False, default="channel")


class RevenueDailyInputSerializer(ReportInputSerializer):
    default_days = 10
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_RANGE_DAYS,
        help_text="The last `days` days, ending today (default 10). Not together with `start` or `end`.",
    )

    def validate(self, attrs):
        if "days" in attrs and ("start" in attrs or "end" in attrs):
            raise serializers.ValidationError({"days": ["Give either days or start/end, not both."]})
        return super().validate(attrs)


class ChannelReportRowSerializer(serializers.Serializer):
    channel = serializers.CharField(required=False, help_text="With group_by=channel.")
    channel_group = serializers.CharField(required=False, help_text="With group_by=channel_group.")
    campaign = serializers.CharField(required=False, help_text="With group_by=campaign.")
    visitors = serializers.IntegerField()
    conversions = serializers.CharField(help_text="Orders credited, fractional under multi-touch models.")
    revenue = serializers.CharField(help_text="Decimal string in the report currency.")


class ChannelReportTotalsSerializer(serializers.Serializer):
    visitors = serializers.IntegerField(help_text="Distinct visitors over all channels.")
    conversions = serializers.CharField()
    revenue = serializers.CharField()


class ChannelReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    model = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    processor = serializers.CharField(allow_null=True)
    group_by = serializers.CharField()
    rows = ChannelReportRowSerializer(many=True)
    totals = ChannelReportTotalsSerializer()


class RevenueDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    revenue = serializers.CharField()
    orders = serializers.IntegerField()


class RevenueDailySerializer(serializers.Serializer):
    currency = serializers.CharField()
    model = serializers.CharField()
    processor = serializers.CharField(allow_null=True)
    days = RevenueDaySerializer(many=True)


class ReportChannelsApi(WorkspaceApiView):
    @extend_schema(
        parameters=[ChannelsInputSerializer],
        responses=ChannelReportSerializer,
        summary="Visitors, conversions and revenue per channel",
    )
    def get(self, request):
        p = self.query(ChannelsInputSerializer, workspace=self.workspace)
        report = channel_report(
            workspace=self.workspace,
            start=p["start"],
            end=p["end"],
            model=p["model"],
            processor=p["processor"],
            group_by=p["group_by"],
        )
        currency = REPORT_CURRENCY
        rows = [
            {
                p["group_by"]: row.name,
                "visitors": row.visitors,
                "conversions": conversions_format(row.conversions),
                "revenue": money_format(row.revenue_usd_minor, currency),
            }
            for row in report.rows
        ]
        totals = {
            "visitors": report.visitors,
            "conversions": conversions_format(report.conversions),
            "revenue": money_format(report.revenue_usd_minor, currency),
        }
        return Response(
            ChannelReportSerializer(
                {
                    "currency": currency,
                    "model": p["model"],
                    "start": p["start"],
                    "end": p["end"],
                    "processor": p["processor"],
                    "group_by": p["group_by"],
                    "rows": rows,
                    "totals": totals,
                }
            ).data
        )


class ReportRevenueDailyApi(WorkspaceApiView):
    @extend_schema(
        parameters=[RevenueDailyInputSerializer],
        responses=RevenueDailySerializer,
        summary="Attributed revenue per day, zero-filled, oldest first",
    )
    def get(self, request):
        p = self.query(RevenueDailyInputSerializer, workspace=self.workspace)
        currency = REPORT_CURRENCY
        days = revenue_daily(
            workspace=self.workspace, start=p["start"], end=p["end"], model=p["model"], processor=p["processor"]
        )
        return Response(
            RevenueDailySerializer(
                {
                    "currency": currency,
                    "model": p["model"],
                    "processor": p["processor"],
                    "days": [
                        {"date": d.date, "revenue": money_format(d.revenue_usd_minor, currency), "orders": d.orders}
                        for d in days
                    ],
                }
            ).data
        )


class OrderCreditSerializer(serializers.Serializer):
    channel = serializers.CharField()
    weight = serializers.CharField(help_text='Share of the order, a decimal string with six places ("0.500000").')


class OrderCreditsSerializer(serializers.Serializer):
    last_touch = OrderCreditSerializer(many=True)
    first_touch = OrderCreditSerializer(many=True)
    linear = OrderCreditSerializer(many=True)
    position_based = OrderCreditSerializer(many=True)
    time_decay = OrderCreditSerializer(many=True)


class OrderPartnerSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField(source="partner")
    commission = serializers.SerializerMethodField()
    status = serializers.CharField()
    reason = serializers.CharField()

    def get_commission(self, row) -> str:
        return money_format(row["amount_minor"], row["currency"])


class OrderWithCreditsOutputSerializer(OrderOutputSerializer):
    credits = serializers.SerializerMethodField()
    partner = serializers.SerializerMethodField()

    @extend_schema_field(OrderPartnerSerializer(allow_null=True))
    def get_partner(self, obj):
        """The partner the affiliate program credits (the contractual referral, apart from the models)."""
        row = self.context["partners"].get(obj.pk)
        return OrderPartnerSerializer(row).data if row else None

    @extend_schema_field(OrderCreditsSerializer)
    def get_credits(self, obj) -> dict:
        credits: dict[str, list] = {model: [] for model in MODELS}
        for credit in obj.served_credits:
            credits[credit.model].append({"channel": credit.channel, "weight": weight_text(credit.weight)})
        return credits


class OrderListWithCreditsApi(OrderListApi):
    """`GET /api/v1/orders/`: integrations' order rows plus the served credits per model."""

    OutputSerializer = OrderWithCreditsOutputSerializer

    def get_queryset(self, filters: dict):
        served = Credit.objects.filter(version=served_version(self.workspace)).order_by("model", "-weight", "channel")
        return (
            super()
            .get_queryset(filters)
            .prefetch_related(Prefetch("credits", queryset=served, to_attr="served_credits"))
        )

    @extend_schema(
        parameters=[OrderListApi.FilterSerializer],
        responses=OrderWithCreditsOutputSerializer(many=True),
        summary="Orders, with their credit per attribution model",
    )
    def get(self, request):
        filters = self.query(self.FilterSerializer)
        return self.paginated_response(
            self.get_queryset(filters),
            self.OutputSerializer,
            context={"request": request},
            page_context=lambda page: {
                "partners": order_partners(workspace=self.workspace, order_ids=[o.pk for o in page])
            },
        )


def _timestamp(value: datetime | None) -> str | None:
    """As the API's DateTimeField writes it (UTC, `Z`)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def order_export_row(order, credits: list[tuple], partner: dict | None) -> dict:
    """An orders API row (`OrderWithCreditsOutputSerializer`) from an ExportBatch, plus `revenue_usd`: the
    USD the order adds to the reports, the same under every model (its credits' sum), and each credit's
    part of it. Built directly, with the same formats: a DRF serializer costs about half a millisecond per
    order, which an export of 100,000 orders cannot pay. tests/attribution/test_orders_export.py keeps the
    two equal."""
    by_model: dict[str, list] = {model: [] for model in MODELS}
    for _, model, channel, weight, usd in credits:
        by_model[model].append(
            {"channel": channel, "weight": weight_text(weight), "revenue_usd": money_format(usd, REPORT_CURRENCY)}
        )
    revenue = sum(credit[4] for credit in credits if credit[1] == LAST_TOUCH)
    return {
        "id": order.id,
        "processor": order.processor,
        "external_id": order.external_id,
        "kind": order.kind,
        "status": order.status,
        "currency": order.currency,
        "amount": money_format(order.amount_minor, order.currency),
        "amount_usd": money_format(order.amount_usd_minor, "USD"),
        "refunded": money_format(order.refunded_minor, order.currency),
        "revenue_usd": money_format(revenue, REPORT_CURRENCY),
        "placed_at": _timestamp(order.placed_at),
        "paid_at": _timestamp(order.paid_at),
        "visitor_id": order.visitor_id,
        "matched_by": order.matched_by,
        "subscription_id": order.subscription_id,
        "credits": by_model,
        "partner": OrderPartnerSerializer(partner).data if partner else None,
    }


EXPORT_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
ORDER_COLUMNS = [
    "id",
    "processor",
    "external_id",
    "kind",
    "status",
    "placed_at",
    "paid_at",
    "currency",
    "amount",
    "amount_usd",
    "refunded",
    "revenue_usd",
    "visitor_id",
    "matched_by",
    "subscription_id",
]
PARTNER_COLUMNS = ["id", "name", "commission", "status", "reason"]
CSV_HEADER = [*ORDER_COLUMNS, *(f"partner_{c}" for c in PARTNER_COLUMNS), *(f"credits_{m}" for m in MODELS)]


class _Lines:
    """csv.writer's file: hands back each line it is given, so rows are written into a batch's string."""

    def write(self, line: str) -> str:
        return line


def _csv_row(row: dict) -> list:
    """One order flat: a credits column per model, `Channel:weight:revenue_usd` entries joined by `; `."""
    partner = row["partner"] or {}
    credits = [
        "; ".join(f"{c['channel']}:{c['weight']}:{c['revenue_usd']}" for c in row["credits"][model]) for model in MODELS
    ]
    return [*(row[c] for c in ORDER_COLUMNS), *(partner.get(c) for c in PARTNER_COLUMNS), *credits]


def _order_export_chunks(*, workspace, filters: dict, fmt: str) -> Iterator[str]:
    """The file, one string per batch of orders (the CSV's first string is its header)."""
    writer = csv.writer(_Lines())
    if fmt == "csv":
        yield writer.writerow(CSV_HEADER)
    for batch in order_export_batches(workspace=workspace, filters=filters):
        rows = (order_export_row(o, batch.credits[o.id], batch.partners.get(o.id)) for o in batch.orders)
        if fmt == "csv":
            yield "".join(writer.writerow(_csv_row(row)) for row in rows)
        else:
            yield "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)


def _export_filename(filters: dict, fmt: str) -> str:
    """`trackrev-orders-2026-11-01-2026-11-30.csv`; the Orders page may leave either end open."""
    start, end = filters.get("start"), filters.get("end")
    periods = {(True, True): f"{start}-{end}", (True, False): f"from-{start}", (False, True): f"to-{end}"}
    return f"trackrev-orders-{periods.get((bool(start), bool(end)), 'all')}.{fmt}"


def order_export_response(*, workspace, filters: dict, fmt: str) -> StreamingHttpResponse:
    """The export of the orders `filters` select, streamed (the API and the Orders page answer with it)."""
    return streamed_attachment(
        _order_export_chunks(workspace=workspace, filters=filters, fmt=fmt),
        filename=_export_filename(filters, fmt),
        content_type=EXPORT_CONTENT_TYPES[fmt],
    )


class OrderExportInputSerializer(PeriodInputSerializer):
    format = serializers.ChoiceField(
        choices=list(EXPORT_CONTENT_TYPES),
        default="csv",
        help_text="`csv` (`text/csv`) or `ndjson` (`application/x-ndjson`).",
    )


EXPORT_DESCRIPTION = (
    "The file, streamed: with `format=csv` a header line, then one row per order; with `format=ndjson` one JSON "
    "object per line, an orders row plus `revenue_usd`."
)


class JsonErrors(DefaultContentNegotiation):
    """`format` names the exported file here, not one of DRF's renderers, and errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OrderExportApi(WorkspaceApiView):
    content_negotiation_class = JsonErrors

    @extend_schema(
        parameters=[OrderExportInputSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=EXPORT_DESCRIPTION),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description=EXPORT_DESCRIPTION),
        },
        summary="Every order of a period with its credits under every model, as a streamed file",
        description=(
            "For finance and BI: each order with its native and USD amounts, its refunds, its visitor and match, "
            "its credit under every model (channel, weight and USD revenue) and the partner it earns. The "
            "`revenue_usd` of a period's orders, and of their credits per model and channel, add up to the "
            "channel report's. Orders by ascending `id`, streamed as they are read."
        ),
    )
    def get(self, request):
        p = self.query(OrderExportInputSerializer, workspace=self.workspace)
        filters = {"start": p["start"], "end": p["end"], "processor": p["processor"]}
        return order_export_response(workspace=self.workspace, filters=filters, fmt=p["format"])


class IdentifyInputSerializer(serializers.Serializer):
    visitor_id = serializers.RegexField(
        VISITOR_ID.pattern,
        max_length=VISITOR_ID_MAX,
        help_text="The browser's `trackrev.visitorId()` (the `trackrev_vid` cookie), as your checkout received it.",
    )
    email = serializers.EmailField(max_length=EMAIL_MAX, help_text="Only its keyed hash is stored.")


class IdentifyApi(WorkspaceApiView):
    @extend_schema(
        request=IdentifyInputSerializer,
        responses={204: None},
        summary="Bind a customer's email to their visitor, from your backend",
        description=(
            "The server-side twin of the pixel's `identify()`: call it at sign-up or checkout. A binding "
            "made here is verified (it needs your API key), so it may join the same buyer's visitors "
            "into one journey; one made by the browser only stands in for a lost visitor id."
        ),
    )
    def post(self, request):
        data = IdentifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identity_bind(
            workspace_id=self.workspace.pk,
            visitor_id=data.validated_data["visitor_id"],
            email=data.validated_data["email"],
            source=IdentitySource.SERVER,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
