from django.http import JsonResponse
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
    return JsonResponse(body, status=200 if health.healthy else 503)
