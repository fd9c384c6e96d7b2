"""POST /billing/stripe/webhook/: the operator's Stripe account tells TrackRev of Pro subscriptions."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from trackrev.common.strict_json import JsonInvalid, json_loads_strict
from trackrev.workspaces.billing.stripe_events import EventInvalid, event_apply, event_verify

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024  # an event is a few KB


def _status(code: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=code)


@csrf_exempt
@require_POST
def billing_webhook(request):
    if not settings.BILLING_STRIPE_WEBHOOK_SECRET:
        return _status(404, "Billing is not configured.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _status(413, "Body over 256 KiB.")
    try:
        event_verify(body=body, signature=request.headers.get("Stripe-Signature", ""))
    except EventInvalid as exc:
        logger.warning("billing webhook signature rejected: %s", exc)
        return _status(400, "Invalid signature.")
    try:
        event = json_loads_strict(body)
    except JsonInvalid:
        event = None
    if not isinstance(event, dict):
        return _status(400, "Body is not a JSON object.")
    event_apply(event)
    return HttpResponse(status=200)
