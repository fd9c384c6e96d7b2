import re

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/workspace/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "trk_…",
    }


def test_schema_endpoint_needs_no_key(client):
    response = client.get("/api/v1/schema/")

    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs/").content.decode()

    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls, "the docs page should reference its assets"
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls


def test_error_format_is_detail():
    response = APIClient().get("/api/v1/workspace/", HTTP_AUTHORIZATION="Token nope")

    assert response.status_code == 401
    assert list(response.json()) == ["detail"]
