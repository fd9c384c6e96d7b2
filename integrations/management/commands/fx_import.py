from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.ecb import EcbFormatError
from integrations.services.fx import fx_import_bytes


class Command(BaseCommand):
    help = (
        "Import ECB euro reference rates from any file the ECB publishes: eurofxref-daily.xml, "
        "eurofxref-hist-90d.xml, eurofxref-hist.xml, eurofxref.zip/.csv, eurofxref-hist.zip/.csv. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            stored = fx_import_bytes(data=data)
        except (EcbFormatError, ValueError) as exc:
            raise CommandError(f"{path} is not an ECB reference-rate file: {exc}") from exc
        self.stdout.write(f"Stored {stored} (date, currency) rates from {path}.")
