"""A member of workspace A gets 404 for workspace B's objects, on pages and in the API."""

import pytest

from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.workspaces.models import ApiKey
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs():
    workspace = WorkspaceFactory(name="Theirs")
    return {
        "workspace": workspace,
        "member": MembershipFactory(workspace=workspace, role="owner"),
        "key": api_key_create(workspace=workspace, name="theirs").api_key,
    }


@pytest.mark.parametrize(
    "url",
    ["/app/settings/members/{member}/role/", "/app/settings/api-keys/{key}/revoke/"],
)
def test_pages_404_for_another_workspaces_objects(owner_client, theirs, url):
    response = owner_client.post(url.format(member=theirs["member"].pk, key=theirs["key"].pk), {"role": "viewer"})

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=theirs["key"].pk).revoked_at is None
    assert theirs["member"].__class__.objects.get(pk=theirs["member"].pk).role == "owner"


def test_cannot_switch_into_another_workspace(owner_client, theirs):
    assert owner_client.post("/app/switch/", {"workspace": theirs["workspace"].public_id}).status_code == 404


def test_a_forged_session_workspace_falls_back_to_my_own(owner_client, workspace, theirs):
    session = owner_client.session
    session["workspace"] = theirs["workspace"].public_id
    session.save()

    page = owner_client.get("/app/settings/").content.decode()

    assert workspace.public_id in page and theirs["workspace"].public_id not in page


def test_pages_list_only_my_workspaces_rows(owner_client, theirs):
    members = owner_client.get("/app/settings/members/").content.decode()
    keys = owner_client.get("/app/settings/api-keys/").content.decode()

    assert theirs["member"].user.email not in members
    assert theirs["key"].prefix not in keys


def test_api_key_sees_only_its_own_workspace(api_client, workspace, theirs):
    body = api_client.get("/api/v1/workspace/").json()

    assert body["id"] == workspace.public_id != theirs["workspace"].public_id
