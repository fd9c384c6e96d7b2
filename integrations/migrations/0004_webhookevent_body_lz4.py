"""The inbox body is compressed with lz4 instead of pglz on PostgreSQL built with lz4 (14 and later):
a delivery's body is a few kilobytes of JSON, compressed on every acknowledgement, and lz4 does that at
a fraction of pglz's CPU. Other databases, or a server without lz4, keep their default."""

from django.db import migrations


def _set_compression(method: str):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT %s = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'", [method]
            )
            row = cursor.fetchone()
        if row and row[0]:
            model = apps.get_model("integrations", "WebhookEvent")
            table, column = (schema_editor.quote_name(name) for name in (model._meta.db_table, "body"))
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")

    return apply


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_webhookevent_lean_indexes")]

    operations = [migrations.RunPython(_set_compression("lz4"), _set_compression("pglz"))]
