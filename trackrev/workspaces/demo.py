"""The demo workspace behind `make run`. Each app adds its demo data through `settings.DEMO_SEEDERS`,
dotted paths of functions taking the workspace, so this core app never imports the apps above it."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from trackrev.outbox.services import notifications_delivered_here
from trackrev.workspaces.models import ApiKey, Membership, Plan, Role, User, Workspace
from trackrev.workspaces.services import api_key_create, api_key_revoke, user_get_or_create

DEMO_EMAIL = "demo@trackrev.local"
DEMO_PASSWORD = "trackrev-demo"  # noqa: S105 — a published demo login for the local dashboard
DEMO_WORKSPACE = "Demo SaaS"
DEMO_PUBLIC_ID = "ws_demo"  # stable, so the demo snippet and API examples keep working
# The founder's team (no passwords: only the demo login logs in) and the keys their tools use.
TEAM = [("Maya Growth", "maya@demo-saas.test", Role.ADMIN), ("Sam Finance", "sam@demo-saas.test", Role.VIEWER)]


@dataclass(frozen=True)
class DemoLogin:
    workspace: Workspace
    email: str
    password: str


@transaction.atomic
def demo_seed() -> DemoLogin:
    """(Re)create the demo workspace from scratch, then let each app fill it. What the apps' writes
    notify (credits for every order…) is delivered here, so the worker starts with nothing queued."""
    Workspace.objects.filter(public_id=DEMO_PUBLIC_ID).delete()
    user = User.objects.filter(email=DEMO_EMAIL).first() or User.objects.create_user(email=DEMO_EMAIL)
    user.set_password(DEMO_PASSWORD)
    user.name = "Demo Founder"
    user.save()
    workspace = Workspace.objects.create(
        public_id=DEMO_PUBLIC_ID, name=DEMO_WORKSPACE, plan=Plan.PRO, allowed_domains=["demo-saas.test"]
    )
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    _team_seed(workspace, owner=user)
    for dotted in settings.DEMO_SEEDERS:  # each seeder finds what the ones before it set off done
        with notifications_delivered_here():
            import_string(dotted)(workspace=workspace)
    return DemoLogin(workspace=workspace, email=DEMO_EMAIL, password=DEMO_PASSWORD)


def _team_seed(workspace: Workspace, *, owner: User) -> None:
    for name, email, role in TEAM:
        member = user_get_or_create(email=email)
        User.objects.filter(pk=member.pk).update(name=name)
        Membership.objects.create(workspace=workspace, user=member, role=role)  # no invitation email
    now = timezone.now()
    zapier = api_key_create(workspace=workspace, name="Zapier", created_by=owner).api_key
    ApiKey.objects.filter(pk=zapier.pk).update(last_used_at=now - timedelta(minutes=12))
    api_key_revoke(api_key=api_key_create(workspace=workspace, name="Old laptop script", created_by=owner).api_key)
