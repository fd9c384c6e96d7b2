from django.urls import path

from integrations.webhook_views import webhook_receive

urlpatterns = [
    path("webhooks/<slug:processor>/<slug:workspace>", webhook_receive, name="webhook_receive"),
]
