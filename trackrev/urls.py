from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from trackrev.admin_site import overview as admin_overview
from trackrev.error_views import api_not_found
from trackrev.health.views import healthz
from trackrev.workspaces.apis import WorkspaceGetApi
from trackrev.workspaces.forms import AdminLoginForm
from trackrev.workspaces.views import LoginView, SignUpView

# The Django admin is TrackRev's back office, for staff.
admin.site.site_header = "TrackRev back office"
admin.site.site_title = "TrackRev back office"
admin.site.index_title = "Workspaces, processors and attribution"
admin.site.login_form = AdminLoginForm  # throttled like /login/

api_v1 = [
    path("workspace/", WorkspaceGetApi.as_view(), name="workspace"),
    path("", include("integrations.api_urls")),
    path("", include("attribution.api_urls")),
    path("", include("affiliates.api_urls")),
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    # The split view serves Swagger UI's start-up code as a file, so CSP needs no inline scripts; only
    # the page's few inline style rules are allowed, on this page alone.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", authentication_classes=[], permission_classes=[])
        ),
        name="docs",
    ),
]

accounts = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", SignUpView.as_view(), name="signup"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

app = [
    path("", include("attribution.urls")),
    path("", include("integrations.urls")),
    path("", include("affiliates.urls")),
    path("", include("trackrev.workspaces.urls")),
    path("settings/channels/", include("attribution.channel_urls")),
]

urlpatterns = [
    # Public endpoints called by browsers, processors and partners (no session). First: they take most
    # of the traffic, and Django tries the patterns in order on every request.
    path("", include("integrations.public_urls")),
    path("", include("attribution.public_urls")),
    path("", include("affiliates.public_urls")),
    path("partners/", include("affiliates.portal_urls")),
    path("billing/", include("trackrev.workspaces.billing.urls")),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for it on pages that name no icon (the admin's). Resolved per request: the hashed name
    # of the file exists only once collectstatic ran.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    path("admin/overview/", admin_overview, name="admin_overview"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    re_path(r"^api/", api_not_found),  # any other path under /api/, DEBUG or not
    path("app/", include(app)),
    *accounts,
]

handler404 = "trackrev.error_views.not_found"
handler500 = "trackrev.error_views.server_error"
