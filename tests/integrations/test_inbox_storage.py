"""How the inbox stores bodies on PostgreSQL (migration 0004)."""

import pytest
from django.db import connection
from django.db.models import CharField, F, Func

from integrations.models import WebhookEvent
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import encode, payload


@pytest.mark.postgres
@pytest.mark.django_db
def test_bodies_are_compressed_with_lz4_and_read_back_whole():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'body'",
            [WebhookEvent._meta.db_table],
        )
        assert cursor.fetchone()[0] == "l"
    body = encode(payload("order_created_purchase")).decode()  # 3.3 kB: over the 2 kB compression threshold
    connection_ = ProcessorConnectionFactory()
    event = WebhookEvent.objects.create(
        workspace=connection_.workspace, connection=connection_, processor="polar", delivery_id="msg_1", body=body
    )
    stored = WebhookEvent.objects.annotate(
        compression=Func(F("body"), function="pg_column_compression", output_field=CharField())
    ).get(pk=event.pk)
    assert stored.compression == "lz4"
    assert stored.body == body
