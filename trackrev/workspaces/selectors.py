"""Reads for tenancy. Everything a person or key may see goes through their workspace."""

from django.db.models import QuerySet

from trackrev.workspaces.models import ApiKey, Membership, User, Workspace
from trackrev.workspaces.services import API_KEY_PREFIX, api_key_digest


def api_key_get_active(*, raw_key: str) -> ApiKey | None:
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 100:
        return None
    return (
        ApiKey.objects.select_related("workspace")
        .filter(digest=api_key_digest(raw_key), revoked_at__isnull=True)
        .first()
    )


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def membership_get(*, user: User, workspace_public_id: str) -> Membership | None:
    return membership_list_for_user(user=user).filter(workspace__public_id=workspace_public_id).first()


def membership_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email")


def api_key_list(*, workspace: Workspace) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(workspace=workspace).order_by("revoked_at", "-created_at")
