from django.urls import path

from affiliates import portal_views

app_name = "affiliates_portal"

urlpatterns = [
    path("", portal_views.LoginView.as_view(), name="login"),
    path("logout/", portal_views.LogoutView.as_view(), name="logout"),
    path("set-password/<uidb64>/<token>/", portal_views.SetPasswordView.as_view(), name="set_password"),
    path("forgot/", portal_views.ForgotView.as_view(), name="forgot"),
    path("switch/", portal_views.SwitchView.as_view(), name="switch"),
    path("dashboard/", portal_views.DashboardView.as_view(), name="dashboard"),
    path("links/", portal_views.LinksView.as_view(), name="links"),
    path("commissions/", portal_views.CommissionsView.as_view(), name="commissions"),
    path("payouts/", portal_views.PayoutsView.as_view(), name="payouts"),
    path("payouts/<int:pk>/statement.csv", portal_views.StatementView.as_view(), name="statement"),
    path("settings/", portal_views.PayoutSettingsView.as_view(), name="settings"),
]
