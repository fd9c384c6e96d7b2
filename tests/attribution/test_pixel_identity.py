"""identify(email): only a keyed digest is stored, never the address (every table is inspected)."""

import pytest
from django.apps import apps
from django.db import connection

from attribution.models import Identity, Touch
from tests.attribution.pixel_helpers import hit, post
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db
EMAIL = "Jane.Doe+trial@Example.com"


def database_text() -> str:
    """Every row of every table of the project, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — table names come from the models
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks).lower()


def test_identify_stores_no_plaintext_email_anywhere(client, workspace):
    landing = "https://shop.example.com/welcome?email=jane.doe%2Btrial%40example.com&utm_source=newsletter"
    assert post(client, hit(workspace, u=landing, r=f"https://mail.example.net/?to={EMAIL}")).status_code == 204
    assert post(client, hit(workspace, k="id", e=EMAIL)).status_code == 204
    assert Identity.objects.get().email_digest == email_digest(EMAIL)
    touch = Touch.objects.get()
    assert touch.source == "newsletter" and "email" not in touch.landing_url
    text = database_text()
    assert Identity.objects.exists() and Touch.objects.exists()
    for needle in (EMAIL.lower(), "jane.doe+trial", "jane.doe%2btrial", "jane.doe"):
        assert needle not in text


def test_digest_is_keyed_so_two_workspaces_match_the_same_person(client, workspace, settings):
    post(client, hit(workspace, k="id", e=EMAIL))
    post(client, hit(workspace, k="id", e=EMAIL.upper(), v="b" * 32))
    digests = set(Identity.objects.values_list("email_digest", flat=True))
    assert len(digests) == 1  # normalised: the same person from two browsers
    settings.EMAIL_HASH_KEY = "another-key"
    assert email_digest(EMAIL) not in digests  # keyed: not a plain hash anyone can recompute
