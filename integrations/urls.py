from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.IntegrationsView.as_view(), name="index"),
    path("webhooks/", views.WebhookEndpointsView.as_view(), name="webhook_endpoints"),
]
