"""The product's URLs plus the bare baseline: a 204 view behind the same middleware as /collect and the webhooks."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from trackrev.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def bare_204(request):
    return HttpResponse(status=204)


urlpatterns = [path("bench/bare", bare_204), *product_urlpatterns]
