import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from trackrev.workspaces.models import ApiKey

pytestmark = pytest.mark.django_db


def _create_workspace(*args) -> dict:
    out = StringIO()
    call_command("create_workspace", "--name", "Acme", "--owner-email", "Founder@Example.com", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _get_workspace(raw_key: str | None):
    client = APIClient()
    if raw_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client.get("/api/v1/workspace/")


def test_create_workspace_prints_json_whose_key_authenticates():
    printed = _create_workspace("--plan", "pro")

    assert set(printed) == {"workspace", "api_key"}
    assert printed["workspace"].startswith("ws_") and printed["api_key"].startswith("trk_")
    response = _get_workspace(printed["api_key"])
    assert response.status_code == 200
    assert response.json()["id"] == printed["workspace"]
    assert response.json()["name"] == "Acme"
    assert response.json()["plan"] == "pro"
    assert response.json()["reporting_currency"] == "USD"


def test_key_is_not_stored_in_plaintext():
    printed = _create_workspace()

    stored = ApiKey.objects.get()
    assert printed["api_key"] not in {stored.digest, stored.prefix, stored.name}
    assert stored.prefix == printed["api_key"][:10]


@pytest.mark.parametrize("header_key", [None, "", "trk_wrong", "not-a-key"])
def test_missing_or_wrong_key_is_401(header_key):
    _create_workspace()

    response = _get_workspace(header_key)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401():
    printed = _create_workspace()
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")

    assert _get_workspace(printed["api_key"]).status_code == 401


def test_use_is_recorded_on_the_key():
    printed = _create_workspace()

    _get_workspace(printed["api_key"])

    assert ApiKey.objects.get().last_used_at is not None


def test_create_workspace_rejects_a_bad_email():
    with pytest.raises(Exception, match="not an email address"):
        _create_workspace_with_email("nope")


def _create_workspace_with_email(email):
    call_command("create_workspace", "--name", "Acme", "--owner-email", email, stdout=StringIO())
