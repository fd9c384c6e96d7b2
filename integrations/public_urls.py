from django.db import transaction
from django.urls import path

from integrations.webhook_views import WebhookReceiveView

urlpatterns = [
    path(
        "webhooks/<slug:processor>/<slug:workspace>",
        transaction.non_atomic_requests(WebhookReceiveView.as_view()),
        name="webhook_receive",
    ),
]
