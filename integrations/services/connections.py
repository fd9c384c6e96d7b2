"""Processor connections: create (then backfill in the background) and test credentials."""

import logging

from django.db import IntegrityError, transaction

from integrations.models import ProcessorConnection, SyncRunKind
from integrations.processors.errors import ProcessorError
from integrations.processors.registry import adapter_class, get_adapter
from integrations.services.reconcile import sync_run_queue
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.models import Workspace

logger = logging.getLogger(__name__)


class ConnectionExists(ApplicationError):
    """The workspace already has a connection to this processor."""


@transaction.atomic
def connection_create(
    *,
    workspace: Workspace,
    processor: str,
    api_token: str,
    webhook_secret: str,
    api_base_url: str = "",
    options: dict | None = None,
) -> ProcessorConnection:
    try:
        adapter = adapter_class(processor)
    except LookupError:
        raise ApplicationError(f"{processor} is not supported yet.") from None
    connection = ProcessorConnection(
        workspace=workspace,
        processor=processor,
        api_token=api_token,
        webhook_secret=webhook_secret,
        api_base_url=api_base_url or adapter.default_api_base_url,
        options=options or {},
    )
    connection.full_clean(validate_constraints=False)  # the one connection per processor: IntegrityError below
    try:
        with transaction.atomic():
            connection.save(force_insert=True)
    except IntegrityError:
        raise ConnectionExists(f"This workspace already has a {processor} connection.") from None
    sync_run_queue(connection=connection, kind=SyncRunKind.BACKFILL)
    return connection


@transaction.atomic
def connection_update(
    *,
    connection: ProcessorConnection,
    api_token: str = "",
    webhook_secret: str = "",
    api_base_url: str = "",
    options: dict | None = None,
) -> ProcessorConnection:
    """Blank secrets keep the stored ones (they are never shown, so the form cannot prefill them)."""
    if api_token:
        connection.api_token = api_token
    if webhook_secret:
        connection.webhook_secret = webhook_secret
    connection.api_base_url = api_base_url or adapter_class(connection.processor).default_api_base_url
    if options is not None:
        connection.options = options
    connection.full_clean()
    connection.save()
    return connection


def connection_test(*, connection: ProcessorConnection) -> str:
    """One authenticated read against the processor; its failure category when it fails."""
    if connection.is_demo:
        return f"Demo connection: there is no {connection.get_processor_display()} account behind it to test."
    adapter = get_adapter(connection)
    try:
        adapter.http = adapter.http_client(max_attempts=1, timeout=(5, 10))  # the page waits for the answer
        adapter.check_credentials()
    except ProcessorError as exc:
        logger.info("connection %s failed its test: %s", connection.pk, exc)
        raise ApplicationError(exc.failure) from exc
    return f"Connected: the token can read {connection.get_processor_display()} orders."
