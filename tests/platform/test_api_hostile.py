"""Hostile input at every operation of /api/v1/ (as the schema lists them): bodies, query values and
path ids a fuzzer sends. Never a 5xx; a 4xx stores nothing."""

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories.integrations import ProcessorConnectionFactory
from tests.hostile import VALUES, hostile_bodies

pytestmark = pytest.mark.django_db


def operations() -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, query parameter names, body property names) of every operation in the schema."""
    schema = SchemaGenerator().get_schema(public=True)
    components = schema["components"]["schemas"]
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            properties = components[body["$ref"].rsplit("/", 1)[1]]["properties"] if body else {}
            found.append((method.upper(), path, query, list(properties)))
    return found


OPERATIONS = operations()
# Query and path values: the hostile JSON values as text, and text no URL should carry.
QUERY_VALUES = VALUES.filter(lambda v: len(v) < 5000) | st.sampled_from(["%00", "%ED%A0%80", "%FF", "9" * 400, "-1"])


@pytest.fixture
def connection(workspace):
    return ProcessorConnectionFactory(workspace=workspace)


def stored() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.parametrize(("method", "path", "query", "fields"), OPERATIONS, ids=[f"{m} {p}" for m, p, *_ in OPERATIONS])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_requests_never_fail_and_refusals_store_nothing(
    api_client, connection, method, path, query, fields, data
):
    url = path.replace("{connection_id}", data.draw(st.sampled_from([str(connection.pk), "9" * 30, "0"])))
    if query:
        name = data.draw(st.sampled_from(query))
        url += f"?{name}={data.draw(QUERY_VALUES)}"
    body = data.draw(hostile_bodies(dict.fromkeys(fields, "x"))) if fields else b""
    before = stored()

    response = api_client.generic(method, url, body, content_type="application/json")

    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert stored() == before
