from django.core.management.base import BaseCommand, CommandError

from integrations.models import WebhookEvent, WebhookEventStatus
from integrations.services.webhooks import WebhookEventBusy, webhook_event_process


class Command(BaseCommand):
    help = (
        "Process stored webhook deliveries again, now (by inbox id, or every failed one); their orders' "
        "consumers are told again even when the ledger does not change. A delivery another worker is "
        "processing at that moment is skipped and named at the end (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="inbox row ids")
        parser.add_argument("--failed", action="store_true", help="every delivery whose processing failed")

    def handle(self, *args, ids, failed, **options):
        if not ids and not failed:
            raise CommandError("Give inbox ids or --failed.")
        events = WebhookEvent.objects.filter(pk__in=ids) if ids else WebhookEvent.objects.none()
        if failed:
            events = events | WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED)
        busy = []
        for event_id in events.order_by("received_at").values_list("pk", flat=True):
            try:
                event = webhook_event_process(event_id=event_id, force=True)
            except WebhookEventBusy:
                busy.append(event_id)
                self.stdout.write(f"{event_id}: busy · being processed by another worker, skipped")
                continue
            self.stdout.write(f"{event_id}: {event.status}" + (f" · {event.last_error}" if event.last_error else ""))
        if busy:
            raise CommandError(f"Not reprocessed, another worker held them: {' '.join(map(str, busy))}. Run again.")
