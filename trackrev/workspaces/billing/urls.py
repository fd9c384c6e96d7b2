from django.urls import path

from trackrev.workspaces.billing import public_views

app_name = "billing"

urlpatterns = [
    path("stripe/webhook/", public_views.billing_webhook, name="stripe_webhook"),
]
