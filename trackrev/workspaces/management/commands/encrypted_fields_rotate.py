from django.core.management.base import BaseCommand

from trackrev.common.crypto import encrypted_fields_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (processor tokens and webhook secrets, PayPal payout secrets, …) "
        "under the newest key of FIELD_ENCRYPTION_KEYS. Rotation: prepend a new key, deploy, run this, then "
        "drop the old key."
    )

    def handle(self, *args, **options):
        for label, count in encrypted_fields_rotate().items():
            self.stdout.write(f"{label}: re-encrypted {count} row(s) under the newest key.")
