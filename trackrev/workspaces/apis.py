"""The API frame: `request.workspace` for every API view, taken from the authenticated key only."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from trackrev.workspaces.models import Workspace


class WorkspaceApiView(APIView):
    """Base class for every workspace-scoped API: use `self.workspace`, never an id from the URL."""

    @property
    def workspace(self) -> Workspace:
        return self.request.auth.workspace


class WorkspaceGetApi(WorkspaceApiView):
    class OutputSerializer(serializers.ModelSerializer):
        id = serializers.CharField(source="public_id")

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
                "created_at",
            ]

    @extend_schema(responses=OutputSerializer, summary="The API key's workspace")
    def get(self, request):
        return Response(self.OutputSerializer(self.workspace).data)
