import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
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


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/api/v1/integrations/abc/", "/api/v1/integrations/x/sync/", "/api/v2/"])
def test_unmatched_urls_under_api_are_json_404(path, method, debug, settings):
    settings.DEBUG = debug  # make run serves DEBUG, whose technical 404 page is HTML
    response = APIClient(enforce_csrf_checks=True).generic(method, path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unmatched_urls_elsewhere_keep_the_html_404(client):
    response = client.get("/app/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_schema_declares_pages_errors_and_date_bounds():
    schema = SchemaGenerator().get_schema(public=True)
    components = schema["components"]["schemas"]

    orders = schema["paths"]["/api/v1/orders/"]["get"]
    page = components[orders["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert {"400", "401", "404"} <= set(orders["responses"])
    start = next(p for p in orders["parameters"] if p["name"] == "start")["schema"]
    assert start["format"] == "date" and start["pattern"]
    page_size = next(p for p in orders["parameters"] if p["name"] == "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (1, 200)
    assert components["Error"]["required"] == ["detail"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert "401" in operation["responses"], (method, path)


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "-1"])
def test_page_size_out_of_range_is_400(api_client, page_size):
    response = api_client.get(f"/api/v1/orders/?page_size={page_size}")

    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize("query", ["start=", "end=1969-12-31", "start=3000-01-01", "start=2026-11-02&end=2026-11-01"])
def test_orders_filter_refuses_what_the_schema_refuses(api_client, query):
    assert api_client.get(f"/api/v1/orders/?{query}").status_code == 400
