"""`/api/v1/webhook-endpoints/`: a workspace's outbound webhook endpoints (CONTRACTS §5, §7). The secret is
answered once, when it is made (creation, rotation), and never again."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from integrations.models import EventType, WebhookEndpoint
from integrations.selectors import webhook_endpoint_get, webhook_endpoint_list
from integrations.services import outbound_webhooks as outbound
from trackrev.workspaces.apis import Refused, WorkspaceApiView, WorkspaceListApiView
from trackrev.workspaces.openapi import ErrorSerializer
from trackrev.workspaces.serializer_fields import StrictCharField


class EndpointInputSerializer(serializers.Serializer):
    url = StrictCharField(max_length=1000, validators=[URLValidator(schemes=["https", "http"])])
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, max_length=len(EventType)
    )

    def validate_url(self, url: str) -> str:
        try:
            return outbound.endpoint_url_validate(url)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class EndpointCreatedSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="whsec_…: shown once; verify deliveries with it.")


SecretSerializer = inline_serializer("EndpointSecret", {"secret": serializers.CharField()})


class EndpointListCreateApi(WorkspaceListApiView):
    @extend_schema(responses=EndpointOutputSerializer(many=True), summary="Outbound webhook endpoints")
    def get(self, request):
        return self.paginated_response(webhook_endpoint_list(workspace=self.workspace), EndpointOutputSerializer)

    @extend_schema(
        request=EndpointInputSerializer,
        responses={201: EndpointCreatedSerializer},
        summary="Add an endpoint (https, a public address); its signing secret is answered once",
    )
    def post(self, request):
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if webhook_endpoint_list(workspace=self.workspace).count() >= outbound.ENDPOINTS_MAX:
            raise Refused(f"A workspace has at most {outbound.ENDPOINTS_MAX} endpoints.")
        endpoint, secret = outbound.endpoint_create(workspace=self.workspace, **serializer.validated_data)
        body = {**EndpointOutputSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class _EndpointApi(WorkspaceApiView):
    def endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = webhook_endpoint_get(workspace=self.workspace, public_id=endpoint_id)
        if endpoint is None:
            raise NotFound()
        return endpoint


class EndpointDetailApi(_EndpointApi):
    @extend_schema(responses=EndpointOutputSerializer, summary="One endpoint")
    def get(self, request, endpoint_id: str):
        return Response(EndpointOutputSerializer(self.endpoint(endpoint_id)).data)

    @extend_schema(responses={204: None}, summary="Delete an endpoint (its pending deliveries are dropped)")
    def delete(self, request, endpoint_id: str):
        outbound.endpoint_delete(endpoint=self.endpoint(endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretRotateApi(_EndpointApi):
    @extend_schema(
        request=None,
        responses={200: SecretSerializer, 404: OpenApiResponse(ErrorSerializer)},
        summary="A new signing secret; the old one keeps signing beside it for 24 hours",
    )
    def post(self, request, endpoint_id: str):
        return Response({"secret": outbound.endpoint_secret_rotate(endpoint=self.endpoint(endpoint_id))})
