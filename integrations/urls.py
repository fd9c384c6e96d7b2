from django.urls import path

from integrations import outbound_views, views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.IntegrationsView.as_view(), name="index"),
    path("integrations/<slug:processor>/", views.ProcessorView.as_view(), name="processor"),
    path("integrations/<slug:processor>/connect/", views.ConnectionSaveView.as_view(), name="connect"),
    path("integrations/<slug:processor>/test/", views.ConnectionTestView.as_view(), name="test"),
    path("integrations/<slug:processor>/sync/", views.ConnectionSyncView.as_view(), name="sync"),
    path("webhooks/", outbound_views.WebhookEndpointsView.as_view(), name="webhook_endpoints"),
    path(
        "webhooks/<str:endpoint_id>/<slug:action>/",
        outbound_views.EndpointActionView.as_view(),
        name="webhook_endpoint",
    ),
    path(
        "webhooks/deliveries/<int:delivery_id>/resend/",
        outbound_views.DeliveryResendView.as_view(),
        name="delivery_resend",
    ),
]
