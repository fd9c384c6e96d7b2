from django.urls import path

from integrations import apis, outbound_apis

urlpatterns = [
    path("integrations/", apis.ConnectionListCreateApi.as_view(), name="integrations"),
    path("integrations/<int:connection_id>/", apis.ConnectionDetailApi.as_view(), name="integration"),
    path("integrations/<int:connection_id>/sync/", apis.ConnectionSyncApi.as_view(), name="integration_sync"),
    path("webhook-endpoints/", outbound_apis.EndpointListCreateApi.as_view(), name="webhook_endpoints"),
    path("webhook-endpoints/<str:endpoint_id>/", outbound_apis.EndpointDetailApi.as_view(), name="webhook_endpoint"),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret/",
        outbound_apis.EndpointSecretRotateApi.as_view(),
        name="webhook_endpoint_rotate",
    ),
    path("subscriptions/", apis.SubscriptionListApi.as_view(), name="subscriptions"),
]
