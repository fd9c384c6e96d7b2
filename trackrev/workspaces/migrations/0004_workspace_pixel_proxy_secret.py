from django.db import migrations, models

import trackrev.workspaces.models


def distinct_secrets(apps, schema_editor):
    # AddField computed its callable default once for every existing row: give each its own secret.
    Workspace = apps.get_model("workspaces", "Workspace")
    for workspace in Workspace.objects.only("pk").iterator():
        Workspace.objects.filter(pk=workspace.pk).update(
            pixel_proxy_secret=trackrev.workspaces.models.pixel_proxy_secret_new()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0003_workspace_billing_usageday"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="pixel_proxy_secret",
            field=models.CharField(
                default=trackrev.workspaces.models.pixel_proxy_secret_new,
                editable=False,
                help_text="Sent by the customer's proxy as X-TrackRev-Proxy: its forwarded client IP and host are trusted.",
                max_length=40,
            ),
        ),
        migrations.RunPython(distinct_secrets, migrations.RunPython.noop, elidable=True),
    ]
