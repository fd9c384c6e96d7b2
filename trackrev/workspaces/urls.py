from django.urls import path

from trackrev.workspaces import views
from trackrev.workspaces.billing import views as billing_views

app_name = "workspaces"

urlpatterns = [
    path("new/", views.WorkspaceCreateView.as_view(), name="create"),
    path("switch/", views.WorkspaceSwitchView.as_view(), name="switch"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/members/", views.MembersView.as_view(), name="members"),
    path("settings/members/<int:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("settings/api-keys/", views.ApiKeysView.as_view(), name="api_keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    path("settings/usage/", views.UsageView.as_view(), name="usage"),
    path("settings/usage/upgrade/", billing_views.UpgradeView.as_view(), name="upgrade"),
    path("settings/usage/billing/", billing_views.ManageBillingView.as_view(), name="manage_billing"),
]
