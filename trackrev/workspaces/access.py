"""Which workspace a logged-in person is looking at, and what they may do there.

The current workspace comes from the session, but only through the person's own memberships, so a
workspace id that is not theirs can never be selected (another workspace's objects are then a 404).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from trackrev.workspaces.models import Membership
from trackrev.workspaces.selectors import membership_get, membership_list_for_user

SESSION_KEY = "workspace"


def current_membership(request) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    if not hasattr(request, "_membership"):
        chosen = request.session.get(SESSION_KEY)
        membership = membership_get(user=request.user, workspace_public_id=chosen) if chosen else None
        request._membership = membership or membership_list_for_user(user=request.user).first()
    return request._membership


def select_workspace(request, membership: Membership) -> None:
    request.session[SESSION_KEY] = membership.workspace.public_id
    request._membership = membership


class MemberRequiredMixin(LoginRequiredMixin):
    """Views under /app/: sets `self.membership` and `self.workspace`; `manage_required` → owners/admins."""

    manage_required = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = current_membership(request)
        if self.membership is None:
            return redirect("workspaces:create")
        self.workspace = self.membership.workspace
        if self.manage_required and request.method not in ("GET", "HEAD") and not self.membership.can_manage:
            raise PermissionDenied("Viewers cannot change this workspace.")
        return super().dispatch(request, *args, **kwargs)
