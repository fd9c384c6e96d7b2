"""The demo workspace behind `make run`. Each app adds its demo data through `settings.DEMO_SEEDERS`,
dotted paths of functions taking the workspace, so this core app never imports the apps above it."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from trackrev.workspaces.models import Membership, Plan, Role, User, Workspace

DEMO_EMAIL = "demo@trackrev.local"
DEMO_PASSWORD = "trackrev-demo"  # noqa: S105 — a published demo login for the local dashboard
DEMO_WORKSPACE = "Demo SaaS"
DEMO_PUBLIC_ID = "ws_demo"  # stable, so the demo snippet and API examples keep working


@dataclass(frozen=True)
class DemoLogin:
    workspace: Workspace
    email: str
    password: str


@transaction.atomic
def demo_seed() -> DemoLogin:
    """(Re)create the demo workspace from scratch, then let each app fill it."""
    Workspace.objects.filter(public_id=DEMO_PUBLIC_ID).delete()
    user = User.objects.filter(email=DEMO_EMAIL).first() or User.objects.create_user(email=DEMO_EMAIL)
    user.set_password(DEMO_PASSWORD)
    user.name = "Demo Founder"
    user.save()
    workspace = Workspace.objects.create(
        public_id=DEMO_PUBLIC_ID, name=DEMO_WORKSPACE, plan=Plan.PRO, allowed_domains=["demo-saas.test"]
    )
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    for dotted in settings.DEMO_SEEDERS:
        import_string(dotted)(workspace=workspace)
    return DemoLogin(workspace=workspace, email=DEMO_EMAIL, password=DEMO_PASSWORD)
