from trackrev.workspaces.access import current_membership
from trackrev.workspaces.selectors import membership_list_for_user


def workspace(request) -> dict:
    """The workspace shown in the page shell, and the switcher's choices (queried only if rendered)."""
    membership = current_membership(request) if hasattr(request, "user") else None
    if membership is None:
        return {}
    return {
        "membership": membership,
        "workspace": membership.workspace,
        "my_memberships": lambda: list(membership_list_for_user(user=request.user)),
    }
