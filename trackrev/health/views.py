from django.http import JsonResponse
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trackrev.health.selectors import health_get


@never_cache
@require_GET
def healthz(request):
    health = health_get()
    body = {
        "status": "ok" if health.healthy else "unhealthy",
        "database": "ok" if health.database else "down",
        "broker": "ok" if health.broker else "down",
        "heartbeat_age_seconds": health.heartbeat_age_seconds,
    }
    response = JsonResponse(body, status=200 if health.healthy else 503)
    if not health.healthy:
        # The probe's answer, not a failure of this request: a warning (django.request logs every 503 as an
        # ERROR, also while the first worker is still starting).
        log_response(
            "Unhealthy: database %(database)s, broker %(broker)s, heartbeat_age_seconds %(heartbeat_age_seconds)s",
            body,
            response=response,
            request=request,
            level="warning",
        )
    return response
