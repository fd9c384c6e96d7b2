"""POST /webhooks/<processor>/<workspace>: verify on the raw bytes, store, answer 202 (CONTRACTS.md §4)."""

import json
import logging

from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from integrations.processors.errors import SignatureInvalid
from integrations.processors.registry import ADAPTERS, get_adapter
from integrations.processors.signing import lower_headers
from integrations.services.webhooks import webhook_connection_get, webhook_event_receive

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def _status(code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=code)


@method_decorator(csrf_exempt, name="dispatch")
class WebhookReceiveView(View):
    """Never inside a request-wide transaction: the inbox row must commit before the 202."""

    http_method_names = ["post"]

    def post(self, request, processor: str, workspace: str):
        connection = (
            webhook_connection_get(processor=processor, workspace_public_id=workspace)
            if processor in ADAPTERS
            else None
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
        headers = lower_headers(request.headers)  # once: request.headers is rebuilt from META on each walk
        try:
            adapter.verify_signature(body=body, headers=headers)
        except SignatureInvalid as exc:
            logger.warning("webhook signature rejected for connection %s: %s", connection.pk, exc)
            return _status(401, "Invalid signature.")
        try:
            payload = json.loads(body.decode("utf-8"))
        except ValueError:  # includes UnicodeDecodeError
            payload = None
        if not isinstance(payload, dict):
            return _status(400, "Body is not a JSON object.")
        webhook_event_receive(
            connection=connection, adapter=adapter, body=body, headers=request.headers, payload=payload
        )
        return HttpResponse(status=202)
