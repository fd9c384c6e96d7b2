"""Processor connections: create (then backfill in the background) and test credentials."""

from django.db import IntegrityError, transaction

from integrations.models import ProcessorConnection, SyncRunKind
from integrations.processors.errors import ProcessorRejected, ProcessorUnavailable
from integrations.processors.http import HttpClient
from integrations.processors.registry import adapter_class, get_adapter
from integrations.services.reconcile import sync_run_queue
from trackrev.common.crypto import encrypted_fields_rotate
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.models import Workspace


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
    try:
        with transaction.atomic():
            connection = ProcessorConnection.objects.create(
                workspace=workspace,
                processor=processor,
                api_token=api_token,
                webhook_secret=webhook_secret,
                api_base_url=api_base_url or adapter.default_api_base_url,
                options=options or {},
            )
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
    """One authenticated read against the processor; a message the user can act on when it fails."""
    http = HttpClient(base_url=connection.api_base_url, token=connection.api_token, max_attempts=1, timeout=(5, 10))
    try:
        get_adapter(connection, http=http).check_credentials()
    except ProcessorRejected as exc:
        if exc.status_code in (401, 403):
            raise ApplicationError(
                "The processor refused the token: check it is valid, not expired, and has the read scopes."
            ) from exc
        raise ApplicationError(f"The processor rejected the request ({exc.status_code}).") from exc
    except ProcessorUnavailable as exc:
        raise ApplicationError(
            f"Could not reach {connection.api_base_url}: check the API URL, or try again if the processor is down."
        ) from exc
    return f"Connected: the token can read {connection.get_processor_display()} orders."


def connection_secrets_rotate() -> int:
    return encrypted_fields_rotate(
        queryset=ProcessorConnection.objects.order_by("pk"), fields=["api_token", "webhook_secret", "updated_at"]
    )
