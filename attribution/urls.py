from django.urls import path

from attribution import views

app_name = "dashboard"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("export.csv", views.OverviewExportView.as_view(), name="export"),
    path("orders/", views.OrdersView.as_view(), name="orders"),
    path("orders/export/", views.OrdersExportView.as_view(), name="orders_export"),
    path("orders/<int:order_id>/", views.OrderDetailView.as_view(), name="order"),
    # Served before trackrev.workspaces' route of the same path (attribution's URLs are included
    # first): the workspace settings page plus the recompute that lookback changes need.
    path("settings/", views.WorkspaceSettingsView.as_view(), name="settings"),
    path(
        "pixel/proxy-secret/",
        views.PixelProxySecretRotateView.as_view(),
        name="pixel_proxy_secret_rotate",
    ),
]
