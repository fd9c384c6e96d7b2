from django.urls import path

from integrations import apis

urlpatterns = [
    path("integrations/", apis.ConnectionListCreateApi.as_view(), name="integrations"),
    path("integrations/<int:connection_id>/", apis.ConnectionDetailApi.as_view(), name="integration"),
    path("integrations/<int:connection_id>/sync/", apis.ConnectionSyncApi.as_view(), name="integration_sync"),
    path("subscriptions/", apis.SubscriptionListApi.as_view(), name="subscriptions"),
]
