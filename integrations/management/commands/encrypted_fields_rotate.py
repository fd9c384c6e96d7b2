from django.core.management.base import BaseCommand

from integrations.services.connections import connection_secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every processor token and webhook secret under the newest key of FIELD_ENCRYPTION_KEYS. "
        "Rotation: prepend a new key, deploy, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        count = connection_secrets_rotate()
        self.stdout.write(f"Re-encrypted the secrets of {count} connection(s) under the newest key.")
