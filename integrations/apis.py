"""REST API (CONTRACTS.md §5): connections, orders, subscriptions. Thin: parse, one call, render."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from integrations.models import OrderStatus, SubscriptionStatus, SyncRun
from integrations.processors.registry import ADAPTERS, processor_choices
from integrations.selectors import (
    connection_get,
    connection_health,
    connection_list,
    connection_webhook_url,
    order_list,
    subscription_list,
    subscription_visitors_of,
)
from integrations.services.connections import ConnectionExists, connection_create
from integrations.services.reconcile import DemoConnectionSync, SyncRunThrottled, sync_run_request
from integrations.validators import api_base_url_validate, connection_options_validate
from trackrev.common.errors import ApplicationError
from trackrev.common.money import money_format
from trackrev.workspaces.apis import Conflict, Refused, WorkspaceApiView, WorkspaceListApiView
from trackrev.workspaces.openapi import ErrorSerializer
from trackrev.workspaces.serializer_fields import NOT_BLANK, ApiDateField, StrictCharField


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


def _options_schema() -> dict:
    """The options every adapter declares (integrations/processors/options.py), as the server takes them:
    those names only, each a string of at most its length and, when it has one, of its pattern."""
    declared = {option.name: option for adapter in ADAPTERS.values() for option in adapter.connection_options}
    properties = {
        name: {
            "type": "string",
            "maxLength": option.max_length,
            "description": option.help_text,
            **({"pattern": f"^(?:{option.pattern})?$"} if option.pattern else {}),  # blank: not set
        }
        for name, option in declared.items()
    }
    by_processor = "; ".join(
        f"{adapter.display_name}: {', '.join(f'`{option.name}`' for option in adapter.connection_options)}"
        for adapter in ADAPTERS.values()
        if adapter.connection_options
    )
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": f"The processor's own settings ({by_processor}); any other name is a 400.",
    }


@extend_schema_field(_options_schema())
class ConnectionOptionsField(serializers.DictField):
    child = StrictCharField(allow_blank=True, trim_whitespace=False)  # checked as sent, as the schema says


class ConnectionCreateInputSerializer(serializers.Serializer):
    processor = serializers.ChoiceField(choices=sorted(ADAPTERS), help_text="The processors supported so far.")
    api_token = StrictCharField(max_length=500, validators=[NOT_BLANK])
    webhook_secret = StrictCharField(max_length=500, validators=[NOT_BLANK])
    api_base_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Default: the processor's production API. Otherwise its sandbox API, or a host the operator "
        "lists in PROCESSOR_API_HOSTS (anything else: 400).",
    )
    options = ConnectionOptionsField(required=False)

    def validate(self, data):
        if data.get("api_base_url"):
            try:
                api_base_url_validate(processor=data["processor"], url=data["api_base_url"])
            except DjangoValidationError as error:
                raise serializers.ValidationError({"api_base_url": error.messages}) from error
        try:
            data["options"] = connection_options_validate(processor=data["processor"], options=data.get("options", {}))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"options": error.messages}) from error
        return data


class ConnectionCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    processor = serializers.CharField()
    webhook_url = serializers.CharField()
    status = serializers.CharField()


class ConnectionListCreateApi(WorkspaceListApiView):
    InputSerializer = ConnectionCreateInputSerializer

    @extend_schema(responses=ConnectionOutputSerializer(many=True), summary="Processor connections and their health")
    def get(self, request):
        return self.paginated_response(connection_list(workspace=self.workspace), ConnectionOutputSerializer)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ConnectionCreatedSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The workspace already has a connection to it."),
        },
        summary="Connect a processor (secrets are stored encrypted and never returned)",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            connection = connection_create(workspace=self.workspace, **serializer.validated_data)
        except ConnectionExists as error:
            raise Conflict(error.message) from error
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
            400: OpenApiResponse(ErrorSerializer, description="A demo connection: there is nothing to sync."),
            429: OpenApiResponse(
                ErrorSerializer, description="The connection's last run ended less than a minute ago."
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
        except DemoConnectionSync as error:
            raise Refused(error.message) from error
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
    status = serializers.ChoiceField(choices=OrderStatus.choices)
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
    processor = serializers.ChoiceField(choices=processor_choices(), required=False)
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        required=False,
        help_text="Orders in this status: a paid order with refunds is `partially_refunded` or `refunded`.",
    )
    start = ApiDateField(required=False, help_text="First day placed (UTC), inclusive.")
    end = ApiDateField(required=False, help_text="Last day placed (UTC), inclusive; not before `start`.")

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["`end` is before `start`."]})
        return attrs


class OrderListApi(WorkspaceListApiView):
    """Subclass and replace `OutputSerializer` (and `get_queryset`) to extend the rows."""

    OutputSerializer = OrderOutputSerializer
    FilterSerializer = OrderFilterSerializer

    def get_queryset(self, filters: dict):
        return order_list(workspace=self.workspace, **filters)

    @extend_schema(parameters=[OrderFilterSerializer], responses=OrderOutputSerializer(many=True), summary="Orders")
    def get(self, request):
        filters = self.query(self.FilterSerializer)
        return self.paginated_response(self.get_queryset(filters), self.OutputSerializer, context={"request": request})


class SubscriptionFilterSerializer(serializers.Serializer):
    processor = serializers.ChoiceField(choices=processor_choices(), required=False)
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


class SubscriptionListApi(WorkspaceListApiView):
    FilterSerializer = SubscriptionFilterSerializer
    OutputSerializer = SubscriptionOutputSerializer

    @extend_schema(
        parameters=[SubscriptionFilterSerializer],
        responses=SubscriptionOutputSerializer(many=True),
        summary="Subscriptions",
    )
    def get(self, request):
        filters = self.query(self.FilterSerializer)
        return self.paginated_response(
            subscription_list(workspace=self.workspace, **filters),
            self.OutputSerializer,
            page_context=lambda page: {"visitors": subscription_visitors_of(subscriptions=page)},
        )
