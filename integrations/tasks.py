"""Celery interfaces: ids in, one service call each. Names are pinned (`integrations.<thing>`)."""

from celery import shared_task

from integrations.processors.errors import ProcessorUnavailable
from integrations.services import fx as fx_services
from integrations.services import outbound_webhooks
from integrations.services import reconcile as reconcile_services
from integrations.services import webhooks as webhook_services


# Failures are kept on the inbox row and retried from there (webhook_events_sweep), not by Celery.
@shared_task(name="integrations.webhook_events_process", acks_late=True, bind=True)
def webhook_events_process(self, event_ids: list[int]) -> None:
    """A batch published by a web process or the sweeper (integrations.dispatch)."""
    if self.request.delivery_info and self.request.delivery_info.get("redelivered"):
        webhook_services.webhook_events_redelivered(event_ids)  # its worker died processing it
        return
    for event_id in event_ids:
        webhook_services.webhook_event_process(event_id=event_id)


# Through the outbox: a delivery another worker holds raises WebhookEventBusy, and the outbox delivers
# the reprocess again later, with backoff.
@shared_task(name=webhook_services.REPROCESS_TASK, acks_late=True)
def webhook_event_reprocess(event_id: int) -> None:
    webhook_services.webhook_event_process(event_id=event_id, force=True)


@shared_task(name="integrations.webhook_events_sweep")
def webhook_events_sweep() -> int:
    return webhook_services.webhook_events_sweep()


@shared_task(name="integrations.webhook_events_prune")
def webhook_events_prune() -> int:
    return webhook_services.webhook_events_prune()


@shared_task(name="integrations.connection_reconcile")
def connection_reconcile(sync_run_id: int) -> None:
    reconcile_services.sync_run_execute(sync_run_id=sync_run_id)


@shared_task(name="integrations.reconcile_all")
def reconcile_all() -> int:
    return len(reconcile_services.connections_reconcile_queue())


@shared_task(
    name="integrations.fx_fetch_daily",
    autoretry_for=(ProcessorUnavailable,),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=6,
)
def fx_fetch_daily() -> int:
    return fx_services.fx_fetch_daily()


# Claimed per delivery before sending, so a redelivered batch sends nothing twice; retries are due rows.
@shared_task(name=outbound_webhooks.SEND_TASK, acks_late=True)
def webhook_deliveries_send(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        outbound_webhooks.delivery_send(delivery_id=delivery_id)


@shared_task(name="integrations.webhook_deliveries_sweep")
def webhook_deliveries_sweep() -> int:
    return outbound_webhooks.deliveries_sweep()
