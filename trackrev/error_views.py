"""Django's 404 and 500 pages, answered as JSON under /api/ (CONTRACTS.md §5: errors are `{"detail"}`),
so a client never has to parse HTML (an unmatched path under /api/ reaches `api_not_found` through the
URLconf, so DEBUG's technical 404 page never answers there either); every other path keeps Django's own
pages."""

from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

API_PREFIX = "/api/"


@csrf_exempt  # a route, so CSRF checks would answer a POST with an HTML 403 first
def api_not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
