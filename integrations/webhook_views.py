"""POST /webhooks/<processor>/<workspace>: verify on the raw bytes, store, answer 202 (CONTRACTS.md §4)."""

import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.processors.errors import SignatureInvalid
from integrations.processors.registry import ADAPTERS, get_adapter
from integrations.processors.signing import request_headers
from integrations.services.inbox import InboxUnavailable
from integrations.services.webhooks import KEPT_HEADERS, webhook_connection_get, webhook_event_receive
from trackrev.common.strict_json import JsonInvalid, json_loads_strict

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def _status(code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=code)


# A plain function view: this is the busiest write path, and a class-based view re-applies its method
# decorators on every call. Never inside a request-wide transaction: the row commits before the 202.
@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def webhook_receive(request, processor: str, workspace: str):
    connection = (
        webhook_connection_get(processor=processor, workspace_public_id=workspace) if processor in ADAPTERS else None
    )
    if connection is None:
        return _status(404, "No such connection.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _status(413, "Body over 1 MiB.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _status(413, "Body over 1 MiB.")
    adapter = get_adapter(connection)
    headers = request_headers(request.META, (*adapter.webhook_headers, *KEPT_HEADERS))
    try:
        adapter.verify_signature(body=body, headers=headers)
    except SignatureInvalid as exc:
        logger.warning("webhook signature rejected for connection %s: %s", connection.pk, exc)
        return _status(401, "Invalid signature.")
    try:
        payload = json_loads_strict(body)
    except JsonInvalid:
        payload = None
    if not isinstance(payload, dict):
        return _status(400, "Body is not a JSON object.")
    try:
        webhook_event_receive(connection=connection, adapter=adapter, body=body, headers=headers, payload=payload)
    except InboxUnavailable:
        logger.exception("webhook for connection %s not stored", connection.pk)
        response = _status(503, "Could not store the delivery; retry later.")
        response["Retry-After"] = "5"
        return response
    return HttpResponse(status=202)
