"""Arbitrary bodies thrown at /collect never cause a 5xx, and anything refused stores nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.models import Identity, Touch, Visitor
from tests.attribution.pixel_helpers import hit, post
from tests.hostile import hostile_bodies

pytestmark = pytest.mark.django_db

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
odd_urls = [
    "https://shop.example.com/",
    "http://x.test/?utm_source=a&gclid=1",
    "ftp://a/",
    "https://",
    "javascript:alert(1)",
    "https://[::1",
    "https://shop.example.com/?via=%ff",
    "",
]
urls = st.sampled_from(odd_urls) | st.text(max_size=40)
hit_like = st.fixed_dictionaries(
    {},
    optional={
        "w": st.sampled_from(["ws_known", "ws_unknown", ""]) | json_values,
        "v": st.sampled_from(["a" * 32, "short", "x" * 70]) | json_values,
        "k": st.sampled_from(["pv", "id", "zz"]) | json_values,
        "u": urls | json_values,
        "r": urls | json_values,
        "s": json_values,
        "e": st.sampled_from(["a@b.co", "nope", ""]) | json_values,
        "a": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | hit_like.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_collect_never_fails_and_refusals_store_nothing(client, workspace, body):
    workspace.public_id = "ws_known"
    workspace.save()
    Touch.objects.all().delete()
    Visitor.objects.all().delete()
    Identity.objects.all().delete()
    response = post(client, None, raw=body)
    assert response.status_code < 500
    assert response.status_code in (204, 400, 403, 404, 413, 429)
    if response.status_code != 204:
        assert (Touch.objects.count(), Visitor.objects.count(), Identity.objects.count()) == (0, 0, 0)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=8 * 1024 + 1, max_value=64 * 1024))
def test_any_oversized_body_is_413(client, workspace, size):
    assert post(client, None, raw=b"{" + b" " * (size - 2) + b"}").status_code == 413
    assert not Touch.objects.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_bodies_never_fail_and_refusals_store_nothing(client, workspace, data):
    """A hit with one field made hostile, or a hostile body: a 4xx that stores nothing, or (a field
    hostile only in type, like `"r": null`) a hit recorded; never a 5xx."""
    body = data.draw(hostile_bodies(hit(workspace, k="id", e="a@b.co")))
    for model in (Touch, Visitor, Identity):
        model.objects.all().delete()

    response = post(client, None, raw=body)

    assert response.status_code in (204, 400, 413)
    if response.status_code != 204:
        assert (Touch.objects.count(), Visitor.objects.count(), Identity.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    "raw",
    [b"[" * 1000 + b"]" * 1000, b'{"w":' * 1200 + b"1" + b"}" * 1200, b'{"w": NaN}', b'{"w": "\\ud800"}'],
    ids=["deep-array", "deep-object", "nan", "lone-surrogate"],
)
def test_bodies_the_json_module_would_crash_on_or_accept_are_400(client, workspace, raw):
    """Nesting under the size limit but past the interpreter's recursion limit raised RecursionError
    (a 500) before the strict loader; NaN and lone surrogates are JSON we cannot store."""
    assert post(client, None, raw=raw).status_code == 400
    assert not Visitor.objects.exists()
