"""Django's 404 and 500 pages, answered as JSON under /api/ (CONTRACTS.md §5: errors are `{"detail"}`),
so a client never has to parse HTML; every other path keeps Django's own pages."""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
