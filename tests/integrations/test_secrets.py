"""Secrets at rest: no plaintext anywhere in the database; rotation keeps old data readable."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from affiliates.models import PayoutSettings
from integrations.models import ProcessorConnection
from tests.factories.integrations import POLAR_SECRET, POLAR_TOKEN, ProcessorConnectionFactory
from tests.factories.workspaces import WorkspaceFactory

pytestmark = pytest.mark.django_db


def database_text() -> str:
    """Every text-ish value of every table, as the database holds it."""
    chunks = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # noqa: S608 — table names from introspection
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


def test_no_plaintext_token_or_secret_in_the_database(api_client):
    api_client.post(
        "/api/v1/integrations/",
        {"processor": "polar", "api_token": POLAR_TOKEN, "webhook_secret": POLAR_SECRET},
        format="json",
    )
    connection = ProcessorConnection.objects.get()
    assert (connection.api_token, connection.webhook_secret) == (POLAR_TOKEN, POLAR_SECRET)

    stored = database_text()
    assert POLAR_TOKEN not in stored
    assert POLAR_SECRET not in stored
    assert POLAR_SECRET[6:] not in stored  # nor the part after the prefix
    assert "fernet:" in stored


def raw_token(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT api_token FROM integrations_processorconnection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_key_rotation_reencrypts_and_old_data_stays_readable(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    connection = ProcessorConnectionFactory()
    under_old = raw_token(connection.pk)

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # rotation in progress
    assert ProcessorConnection.objects.get().api_token == POLAR_TOKEN
    newer = ProcessorConnectionFactory()  # new writes use the newest key
    call_command("encrypted_fields_rotate", stdout=io.StringIO())
    assert raw_token(connection.pk) != under_old

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert {c.api_token for c in ProcessorConnection.objects.all()} == {POLAR_TOKEN}
    assert ProcessorConnection.objects.get(pk=newer.pk).webhook_secret == POLAR_SECRET


def test_rotation_reaches_every_encrypted_field_of_every_app(settings):
    """Found by introspection: a workspace's PayPal payout secret is rotated with the processor tokens."""
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    ProcessorConnectionFactory()
    PayoutSettings.objects.create(workspace=WorkspaceFactory(), paypal_client_id="id", paypal_client_secret="shh")

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("encrypted_fields_rotate", stdout=out)
    assert "affiliates.PayoutSettings: re-encrypted 1 row(s)" in out.getvalue()
    assert "integrations.ProcessorConnection: re-encrypted 1 row(s)" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert PayoutSettings.objects.get().paypal_client_secret == "shh"


def test_data_under_an_unknown_key_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    ProcessorConnectionFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        ProcessorConnection.objects.get()
