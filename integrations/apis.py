"""REST API (CONTRACTS.md §5): connections, orders, subscriptions. Thin: parse, one call, render."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response

from integrations.models import Processor, SubscriptionStatus, SyncRun
from integrations.selectors import (
    connection_get,
    connection_health,
    connection_list,
    connection_webhook_url,
    order_list,
    subscription_list,
    subscription_visitors_of,
)
from integrations.services.connections import connection_create
from integrations.services.reconcile import SyncRunThrottled, sync_run_request
from trackrev.common.errors import ApplicationError
from trackrev.common.money import money_format
from trackrev.workspaces.apis import WorkspaceApiView
from trackrev.workspaces.pagination import StandardPagination


class Refused(APIException):
    status_code = 400
    default_code = "invalid"


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "fetched",
            "created",
            "updated",
            "missed_by_webhook",
            "errors",
            "last_error",
            "window_start",
            "window_end",
            "started_at",
            "finished_at",
        ]


class ConnectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    processor = serializers.CharField()
    status = serializers.CharField()
    api_base_url = serializers.URLField()
    options = serializers.JSONField()
    webhook_url = serializers.SerializerMethodField()
    last_webhook_at = serializers.SerializerMethodField()
    failed_deliveries = serializers.SerializerMethodField()
    last_sync_at = serializers.SerializerMethodField()
    last_sync = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def _health(self, obj):
        if not hasattr(obj, "_health"):
            obj._health = connection_health(connection=obj)
        return obj._health

    def get_webhook_url(self, obj) -> str:
        return connection_webhook_url(connection=obj)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_webhook_at(self, obj):
        value = self._health(obj).last_webhook_at
        return serializers.DateTimeField().to_representation(value) if value else None

    def get_failed_deliveries(self, obj) -> int:
        return self._health(obj).failed_deliveries

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_sync_at(self, obj):
        value = self._health(obj).last_sync_at
        return serializers.DateTimeField().to_representation(value) if value else None

    @extend_schema_field(SyncRunSerializer(allow_null=True))
    def get_last_sync(self, obj):
        run = self._health(obj).last_sync
        return SyncRunSerializer(run).data if run else None


class ConnectionCreateInputSerializer(serializers.Serializer):
    processor = serializers.ChoiceField(choices=Processor.choices)
    api_token = serializers.CharField(max_length=500, trim_whitespace=True)
    webhook_secret = serializers.CharField(max_length=500, trim_whitespace=True)
    api_base_url = serializers.URLField(required=False, allow_blank=True, max_length=300)
    options = serializers.DictField(required=False, child=serializers.CharField(max_length=200))


class ConnectionCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    processor = serializers.CharField()
    webhook_url = serializers.CharField()
    status = serializers.CharField()


class ConnectionListCreateApi(WorkspaceApiView):
    InputSerializer = ConnectionCreateInputSerializer

    @extend_schema(responses=ConnectionOutputSerializer(many=True), summary="Processor connections and their health")
    def get(self, request):
        paginator = StandardPagination()
        page = paginator.paginate_queryset(connection_list(workspace=self.workspace), request, view=self)
        return paginator.get_paginated_response(ConnectionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: ConnectionCreatedSerializer},
        summary="Connect a processor (secrets are stored encrypted and never returned)",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            connection = connection_create(workspace=self.workspace, **serializer.validated_data)
        except ApplicationError as error:
            raise Refused(error.message) from error
        body = {
            "id": connection.pk,
            "processor": connection.processor,
            "webhook_url": connection_webhook_url(connection=connection),
            "status": connection.status,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ConnectionDetailApi(WorkspaceApiView):
    @extend_schema(responses=ConnectionOutputSerializer, summary="One connection: status, last webhook, last sync")
    def get(self, request, connection_id: int):
        connection = connection_get(workspace=self.workspace, connection_id=connection_id)
        if connection is None:
            raise NotFound()
        return Response(ConnectionOutputSerializer(connection).data)


class ConnectionSyncApi(WorkspaceApiView):
    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "SyncQueued", {"sync_run": serializers.IntegerField(), "status": serializers.CharField()}
            ),
            429: OpenApiResponse(
                inline_serializer("SyncTooSoon", {"detail": serializers.CharField()}),
                description="The connection's last run ended less than a minute ago.",
            ),
        },
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds until a new run can be asked for.",
            )
        ],
        summary="Queue the reconcile job for this connection now (or get the run already queued or running)",
    )
    def post(self, request, connection_id: int):
        connection = connection_get(workspace=self.workspace, connection_id=connection_id)
        if connection is None:
            raise NotFound()
        try:
            run = sync_run_request(connection=connection)
        except SyncRunThrottled as error:
            return Response(
                {"detail": error.message},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(error.retry_after)},
            )
        return Response({"sync_run": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    processor = serializers.CharField()
    external_id = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.SerializerMethodField()
    amount_usd = serializers.SerializerMethodField()
    refunded = serializers.SerializerMethodField()
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    visitor_id = serializers.CharField()
    matched_by = serializers.CharField()
    subscription_id = serializers.IntegerField(allow_null=True)

    def get_amount(self, obj) -> str:
        return money_format(obj.amount_minor, obj.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_amount_usd(self, obj):
        return money_format(obj.amount_usd_minor, "USD")

    def get_refunded(self, obj) -> str:
        return money_format(obj.refunded_minor, obj.currency)


class OrderFilterSerializer(serializers.Serializer):
    processor = serializers.ChoiceField(choices=Processor.choices, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["`end` is before `start`."]})
        return attrs


class OrderListApi(WorkspaceApiView):
    """Subclass and replace `OutputSerializer` (and `get_queryset`) to extend the rows."""

    OutputSerializer = OrderOutputSerializer
    FilterSerializer = OrderFilterSerializer

    def get_queryset(self, filters: dict):
        return order_list(workspace=self.workspace, **filters)

    @extend_schema(parameters=[OrderFilterSerializer], responses=OrderOutputSerializer(many=True), summary="Orders")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(self.get_queryset(filters.validated_data), request, view=self)
        return paginator.get_paginated_response(
            self.OutputSerializer(page, many=True, context={"request": request}).data
        )


class SubscriptionFilterSerializer(serializers.Serializer):
    processor = serializers.ChoiceField(choices=Processor.choices, required=False)
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, required=False)


class SubscriptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    processor = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.CharField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    visitor_id = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(source="source_updated_at")

    def get_visitor_id(self, obj) -> str:
        """Bound through the subscription's own metadata, its customer or its first order (not only its own)."""
        return self.context["visitors"][obj.pk]


class SubscriptionListApi(WorkspaceApiView):
    FilterSerializer = SubscriptionFilterSerializer
    OutputSerializer = SubscriptionOutputSerializer

    @extend_schema(
        parameters=[SubscriptionFilterSerializer],
        responses=SubscriptionOutputSerializer(many=True),
        summary="Subscriptions",
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(
            subscription_list(workspace=self.workspace, **filters.validated_data), request, view=self
        )
        visitors = subscription_visitors_of(subscriptions=page)
        return paginator.get_paginated_response(
            self.OutputSerializer(page, many=True, context={"visitors": visitors}).data
        )
