from django.urls import path

from affiliates import public_views

app_name = "affiliates_public"

urlpatterns = [
    path("r/<slug:code>", public_views.partner_redirect, name="redirect"),
    path("r/<slug:code>/<slug:slug>", public_views.partner_redirect, name="redirect_link"),
    path("partners/apply/<str:program_id>/", public_views.ApplyView.as_view(), name="apply"),
]
