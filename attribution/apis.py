"""Attribution's API (CONTRACTS.md §5): channel and daily revenue reports read from the rollups, orders
with their credits, and the server-side identify."""

from datetime import timedelta

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from attribution.credit_models import MODELS, WEIGHT_SCALE, weight_text
from attribution.models import Credit, IdentitySource
from attribution.models.pixel import VISITOR_ID_MAX
from attribution.pixel.wire import EMAIL_MAX, VISITOR_ID
from attribution.selectors.orders import order_partners
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
from trackrev.common.money import money_format
from trackrev.workspaces.apis import WorkspaceApiView
from trackrev.workspaces.serializer_fields import ApiDateField

MAX_RANGE_DAYS = 731


def conversions_format(millionths: int) -> str:
    """Fractional conversions (multi-touch models split an order) as a two-decimal string."""
    return money_format(round(millionths * 100 / WEIGHT_SCALE), "USD")


class ReportInputSerializer(serializers.Serializer):
    start = ApiDateField(
        required=False,
        help_text=f"First day, inclusive, in the workspace's time zone; at most {MAX_RANGE_DAYS} days before `end`.",
    )
    end = ApiDateField(
        required=False,
        help_text="Last day, inclusive; not before `start`. Default: today, or `start` if that is later.",
    )
    model = serializers.ChoiceField(choices=MODELS, required=False)
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
        attrs.setdefault("model", self.context["workspace"].attribution_model)
        attrs.setdefault("processor", None)
        return attrs


class ChannelsInputSerializer(ReportInputSerializer):
    default_days = 30
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
