"""Writes for tenancy: users, workspaces, memberships and API keys."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trackrev.common.errors import ApplicationError
from trackrev.outbox.services import notifications_enqueue
from trackrev.workspaces.config_version import workspace_config_changed
from trackrev.workspaces.models import ApiKey, Membership, Plan, Role, User, Workspace, pixel_proxy_secret_new

API_KEY_PREFIX = "trk_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_digest(raw_key: str) -> str:
    # Keys carry 256 bits of entropy, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def user_get_or_create(*, email: str, password: str | None = None) -> User:
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password)
    return user


@transaction.atomic
def workspace_create(*, name: str, owner: User, plan: str = Plan.FREE) -> Workspace:
    name = name.strip()
    if not name:
        raise ApplicationError("A workspace needs a name.")
    if plan not in Plan.values:
        raise ApplicationError(f"Unknown plan {plan!r}; choose one of {', '.join(Plan.values)}.")
    workspace = Workspace.objects.create(name=name, plan=plan)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


# What the settings page, the admin and any API may change through workspace_update.
SETTINGS_FIELDS = frozenset({"name", "plan", "timezone", "allowed_domains", "attribution_model", "lookback_days"})


@transaction.atomic
def workspace_update(*, workspace: Workspace, data: dict) -> Workspace:
    """Change settings of a workspace, validated, the plan included (the admin, the settings page and the
    billing webhooks all come here); when anything changed, settings.WORKSPACE_CONSUMERS hear of it
    (attribution recomputes when the lookback or the time zone changed) and, on commit, in-process
    caches of its configuration (the pixel's: plan, domains) drop it."""
    unknown = data.keys() - SETTINGS_FIELDS
    if unknown:
        raise ApplicationError(f"These are not workspace settings: {', '.join(sorted(unknown))}.")
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changed = [name for name, value in data.items() if getattr(locked, name) != value]
    if changed:
        for name in changed:
            setattr(locked, name, data[name])
        locked.full_clean()
        locked.save(update_fields=changed)
        notifications_enqueue(tasks=settings.WORKSPACE_CONSUMERS, subject_ids=[locked.pk])
        transaction.on_commit(workspace_config_changed)
    return locked


@transaction.atomic
def workspace_pixel_proxy_secret_rotate(*, workspace: Workspace) -> Workspace:
    """A new proxy secret: from the commit on, hits carrying the old one are direct hits (the pixel's
    cached configuration drops it at once in this process, within a second in the others)."""
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    locked.pixel_proxy_secret = pixel_proxy_secret_new()
    locked.save(update_fields=["pixel_proxy_secret"])
    transaction.on_commit(workspace_config_changed)
    return locked


@transaction.atomic
def workspace_billing_apply(
    *, workspace: Workspace, event_at, plan: str | None, customer_id: str = "", subscription_id: str = ""
) -> Workspace:
    """What a billing event (trackrev/workspaces/billing/) says about a workspace: its billing ids and,
    when `plan` is given, its plan, through workspace_update.

    Events arrive in any order and more than once. One older than the last applied (`event_at`) only
    fills ids the workspace lacks; at the same instant a downgrade wins, so neither a late nor a repeated
    upgrade brings back a canceled plan. An event about another subscription than the workspace's only
    switches to it when it upgrades (a new subscription after a canceled one); an old one ending changes
    nothing."""
    if plan is not None and plan not in Plan.values:
        raise ApplicationError(f"Unknown plan {plan!r}.")
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    last = locked.billing_event_at
    stale = last is not None and (event_at < last or (event_at == last and plan == Plan.PRO))
    other = bool(
        locked.billing_subscription_id and subscription_id and subscription_id != locked.billing_subscription_id
    )
    applies = plan is not None and not stale and (plan == Plan.PRO or not other)
    ids = {"billing_customer_id": customer_id, "billing_subscription_id": subscription_id}
    if applies:
        values = {name: value or getattr(locked, name) for name, value in ids.items()} | {"billing_event_at": event_at}
    else:
        values = {name: value for name, value in ids.items() if value and not getattr(locked, name)}
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, values[name])
    if changed:
        locked.save(update_fields=changed)
    if applies and locked.plan != plan:
        return workspace_update(workspace=locked, data={"plan": plan})
    return locked


@transaction.atomic
def user_sign_up(*, email: str, password: str, workspace_name: str) -> tuple[User, Workspace]:
    if User.objects.filter(email__iexact=email.strip()).exists():
        raise ApplicationError("An account with this email already exists. Log in instead.")
    user = User.objects.create_user(email=email, password=password)
    return user, workspace_create(name=workspace_name, owner=user)


def _invitation_send(*, user: User, workspace: Workspace) -> None:
    """A link to choose a password (Django's reset token, which dies once a password is set)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    body = render_to_string(
        "workspaces/invitation_email.txt",
        {"workspace": workspace, "link": settings.TRACKREV_PUBLIC_URL + path},
    )
    send_mail(f"You were added to {workspace.name} on TrackRev", body, None, [user.email])


def membership_add(*, workspace: Workspace, email: str, role: str) -> Membership:
    """Add a person by email; someone without an account gets an email to choose a password."""
    if role not in Role.values:
        raise ApplicationError("Unknown role.")
    with transaction.atomic():
        user = user_get_or_create(email=email)
        membership, created = Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": role})
    if not created:
        raise ApplicationError(f"{user.email} is already a member of this workspace.")
    if not user.has_usable_password():
        transaction.on_commit(lambda: _invitation_send(user=user, workspace=workspace))
    return membership


def membership_set_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ApplicationError("Unknown role.")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER).count()
        if owners == 1:
            raise ApplicationError("A workspace keeps at least one owner.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def api_key_create(*, workspace: Workspace, name: str, created_by: User | None = None) -> IssuedApiKey:
    name = name.strip()
    if not name:
        raise ApplicationError("Give the key a name, for example where it will be used.")
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        workspace=workspace,
        name=name[:80],
        prefix=raw_key[:10],
        digest=api_key_digest(raw_key),
        created_by=created_by,
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so authenticated reads do not write on every request."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
