"""The API frame: `request.workspace` for every API view, taken from the authenticated key only."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from trackrev.workspaces.models import Workspace
from trackrev.workspaces.pagination import StandardPagination


class Refused(APIException):
    """A business rule refused a well-formed request (its message says which)."""

    status_code = 400
    default_code = "invalid"


class PaymentRequired(APIException):
    """The workspace's plan does not include the feature."""

    status_code = 402
    default_code = "plan_required"


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"


class WorkspaceApiView(APIView):
    """Base class for every workspace-scoped API: use `self.workspace`, never an id from the URL."""

    @property
    def workspace(self) -> Workspace:
        return self.request.auth.workspace

    def query(self, serializer_class, **context) -> dict:
        """The query parameters, validated (400 otherwise). Read as a plain dict, not as form input: an
        empty value (`?start=`) is then invalid, as the schema says, instead of quietly absent."""
        serializer = serializer_class(data=self.request.query_params.dict(), context=context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class WorkspaceListApiView(WorkspaceApiView):
    """A list view: answers one page, `{"count", "next", "previous", "results"}`, as its schema says
    (drf-spectacular reads `pagination_class`)."""

    pagination_class = StandardPagination

    def paginated_response(self, queryset, serializer_class, *, context=None, page_context=None) -> Response:
        """`page_context(page)`: more serializer context read for the page's rows at once."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        context = {**(context or {}), **(page_context(page) if page_context else {})}
        return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


class WorkspaceGetApi(WorkspaceApiView):
    class OutputSerializer(serializers.ModelSerializer):
        id = serializers.CharField(source="public_id")
        pixel_proxy_secret = serializers.CharField(
            read_only=True, help_text="The X-TrackRev-Proxy value of a first-party proxy (README, proxy mode)."
        )

        class Meta:
            model = Workspace
            fields = [
                "id",
                "name",
                "plan",
                "timezone",
                "reporting_currency",
                "allowed_domains",
                "attribution_model",
                "lookback_days",
                "pixel_proxy_secret",
                "created_at",
            ]

    @extend_schema(responses=OutputSerializer, summary="The API key's workspace")
    def get(self, request):
        return Response(self.OutputSerializer(self.workspace).data)
