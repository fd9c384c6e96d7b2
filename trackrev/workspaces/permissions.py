from rest_framework.permissions import BasePermission

from trackrev.workspaces.models import ApiKey


class HasWorkspaceApiKey(BasePermission):
    message = "Authenticate with `Authorization: Bearer trk_…`."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)
