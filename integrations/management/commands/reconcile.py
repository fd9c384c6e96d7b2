from django.core.management.base import BaseCommand, CommandError

from integrations.processors.registry import ADAPTERS
from integrations.services.reconcile import connections_reconcilable, sync_run_execute, sync_run_queue


class Command(BaseCommand):
    help = "Run the hourly reconcile job now (for every active connection, or the ones selected) and print its stats."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="workspace public id (ws_…)")
        parser.add_argument("--processor", choices=list(ADAPTERS))

    def handle(self, *args, workspace=None, processor=None, **options):
        connections = connections_reconcilable().select_related("workspace")
        if workspace:
            connections = connections.filter(workspace__public_id=workspace)
        if processor:
            connections = connections.filter(processor=processor)
        if not connections:
            raise CommandError("No active connection matches (demo connections have nothing to sync).")
        for connection in connections:
            run = sync_run_execute(sync_run_id=sync_run_queue(connection=connection).pk)
            self.stdout.write(
                f"{connection.workspace.public_id} {connection.processor}: {run.status} · fetched {run.fetched}, "
                f"created {run.created}, updated {run.updated}, missed_by_webhook {run.missed_by_webhook}, "
                f"errors {run.errors}" + (f" · {run.last_error}" if run.last_error else "")
            )
