import pytest
from django.core import mail

from tests.factories.workspaces import MembershipFactory, UserFactory, WorkspaceFactory
from trackrev.workspaces.models import ApiKey, Membership, User, Workspace

pytestmark = pytest.mark.django_db


def test_sign_up_creates_user_workspace_and_owner_membership(client):
    response = client.post(
        "/signup/", {"email": "Ada@Example.com", "password": "a-long-passphrase-1", "workspace_name": "Ada Labs"}
    )

    assert response.status_code == 302 and response["Location"] == "/app/"
    user = User.objects.get(email="ada@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner" and membership.workspace.name == "Ada Labs"
    assert client.get("/app/").status_code == 200


def test_sign_up_refuses_weak_password_and_duplicate_email(client):
    UserFactory(email="taken@example.com")

    weak = client.post("/signup/", {"email": "new@example.com", "password": "123", "workspace_name": "X"})
    taken = client.post(
        "/signup/", {"email": "taken@example.com", "password": "a-long-passphrase-1", "workspace_name": "X"}
    )

    assert weak.status_code == 400 and b"too short" in weak.content
    assert taken.status_code == 400 and b"already exists" in taken.content
    assert Workspace.objects.count() == 0


def test_log_in_with_email_and_log_out(client):
    MembershipFactory(user=UserFactory(email="ada@example.com"))

    bad = client.post("/login/", {"username": "ada@example.com", "password": "wrong"})
    good = client.post("/login/", {"username": "ada@example.com", "password": "correct-horse-battery"})

    assert bad.status_code == 200 and b"correct email" in bad.content
    assert good.status_code == 302 and good["Location"] == "/app/"
    assert client.post("/logout/").status_code == 302
    assert client.get("/app/")["Location"].startswith("/login/")


def test_password_reset_sends_a_link(client):
    UserFactory(email="ada@example.com")

    response = client.post("/password-reset/", {"email": "ada@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/reset/" in mail.outbox[0].body


def test_overview_empty_state_tells_what_to_do_next(owner_client):
    page = owner_client.get("/app/").content.decode()

    assert "Paste the pixel" in page and "Connect a processor" in page
    for label in ["Overview", "Orders", "Integrations", "Affiliates", "Webhooks", "Settings"]:
        assert f">{label}</a>" in page


def test_switcher_lists_only_my_workspaces_and_switches(client):
    me = UserFactory()
    first = MembershipFactory(user=me, workspace=WorkspaceFactory(name="Alpha")).workspace
    second = MembershipFactory(user=me, workspace=WorkspaceFactory(name="Beta")).workspace
    WorkspaceFactory(name="Not mine")
    client.force_login(me)

    page = client.get("/app/").content.decode()
    response = client.post("/app/switch/", {"workspace": second.public_id})

    assert "Alpha" in page and "Beta" in page and "Not mine" not in page
    assert response.status_code == 302
    assert client.session["workspace"] == second.public_id != first.public_id


def test_owner_adds_a_member_by_email_who_gets_an_invitation(
    owner_client, workspace, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/app/settings/members/", {"email": "new@example.com", "role": "viewer"})

    assert response.status_code == 302
    membership = Membership.objects.get(workspace=workspace, user__email="new@example.com")
    assert membership.role == "viewer" and not membership.user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]


def test_adding_an_existing_member_twice_is_a_clear_error(owner_client, owner):
    response = owner_client.post("/app/settings/members/", {"email": owner.email, "role": "admin"})

    assert response.status_code == 400 and b"already a member" in response.content


def test_owner_changes_a_role_but_the_last_owner_stays(owner_client, workspace, owner):
    other = MembershipFactory(workspace=workspace, role="viewer")

    owner_client.post(f"/app/settings/members/{other.pk}/role/", {"role": "admin"})
    owner_client.post(f"/app/settings/members/{Membership.objects.get(user=owner).pk}/role/", {"role": "viewer"})

    assert Membership.objects.get(pk=other.pk).role == "admin"
    assert Membership.objects.get(user=owner).role == "owner"


def test_viewer_can_look_but_not_change(client, workspace):
    viewer = MembershipFactory(workspace=workspace, role="viewer")
    client.force_login(viewer.user)

    assert client.get("/app/settings/members/").status_code == 200
    assert client.post("/app/settings/members/", {"email": "x@example.com", "role": "owner"}).status_code == 403
    assert client.post("/app/settings/api-keys/", {"name": "sneaky"}).status_code == 403
    assert client.post("/app/settings/", {"name": "Renamed"}).status_code == 403
    assert client.post(f"/app/settings/members/{viewer.pk}/role/", {"role": "owner"}).status_code == 403
    assert Membership.objects.get(pk=viewer.pk).role == "viewer" and not ApiKey.objects.exists()


def test_api_key_is_shown_once_then_only_its_prefix(owner_client, workspace):
    created = owner_client.post("/app/settings/api-keys/", {"name": "Zapier"}).content.decode()
    key = ApiKey.objects.get(workspace=workspace)
    listed = owner_client.get("/app/settings/api-keys/").content.decode()

    raw = created.split("<code>")[1].split("</code>")[0]
    assert raw.startswith("trk_") and key.prefix == raw[:10]
    assert raw not in listed and f"{key.prefix}…" in listed


def test_revoking_a_key_makes_it_unusable(owner_client, workspace):
    owner_client.post("/app/settings/api-keys/", {"name": "Zapier"})
    key = ApiKey.objects.get(workspace=workspace)

    owner_client.post(f"/app/settings/api-keys/{key.pk}/revoke/")

    key.refresh_from_db()
    assert key.revoked_at is not None


def test_settings_validate_domains_and_time_zone(owner_client, workspace):
    bad = owner_client.post(
        "/app/settings/",
        {
            "name": "Acme",
            "timezone": "Mars/Base",
            "allowed_domains": "not a domain",
            "attribution_model": "linear",
            "lookback_days": 30,
        },
    )
    good = owner_client.post(
        "/app/settings/",
        {
            "name": "Acme",
            "timezone": "Europe/Paris",
            "allowed_domains": "https://Acme.com/\nshop.acme.com",
            "attribution_model": "linear",
            "lookback_days": 60,
        },
    )

    assert bad.status_code == 400 and b"not a domain name" in bad.content
    assert good.status_code == 302
    workspace.refresh_from_db()
    assert workspace.allowed_domains == ["acme.com", "shop.acme.com"]
    assert (workspace.timezone, workspace.attribution_model, workspace.lookback_days) == ("Europe/Paris", "linear", 60)


def test_user_without_workspace_is_asked_to_create_one(client):
    client.force_login(UserFactory())

    assert client.get("/app/")["Location"] == "/app/new/"
    response = client.post("/app/new/", {"name": "Second try"})

    assert response.status_code == 302 and Workspace.objects.filter(name="Second try").exists()


def test_pages_name_their_icon_and_favicon_ico_leads_to_it(client):
    login = client.get("/login/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    assert icon.status_code == 302 and icon["Location"] == "/static/favicon.svg"
    svg = client.get(icon["Location"])
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
