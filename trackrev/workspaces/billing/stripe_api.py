"""Calls to the operator's Stripe account (docs.stripe.com/api, API 2026-06-24.dahlia), through the
official SDK over `requests`: a Checkout Session for Pro, a Billing Portal session for a subscriber."""

import stripe
from django.conf import settings

from trackrev.workspaces.models import Workspace

TIMEOUT_SECONDS = 10
# Copied onto the subscription, so its events name their workspace even before checkout.session.completed.
WORKSPACE_METADATA = "trackrev_workspace"


class BillingUnavailable(Exception):
    """Stripe could not be reached or refused the request; the person may try again."""


def billing_enabled() -> bool:
    return bool(settings.BILLING_STRIPE_API_KEY and settings.BILLING_STRIPE_PRO_PRICE)


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.BILLING_STRIPE_API_KEY,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=1,  # a POST retried by the SDK carries the same idempotency key
    )


def checkout_url(*, workspace: Workspace, email: str, return_url: str) -> str:
    """A subscription Checkout for the Pro price; the buyer comes back to `return_url` either way."""
    params = {
        "mode": "subscription",
        "line_items": [{"price": settings.BILLING_STRIPE_PRO_PRICE, "quantity": 1}],
        "client_reference_id": workspace.public_id,
        "subscription_data": {"metadata": {WORKSPACE_METADATA: workspace.public_id}},
        "metadata": {WORKSPACE_METADATA: workspace.public_id},
        "success_url": f"{return_url}?checkout=success",
        "cancel_url": f"{return_url}?checkout=canceled",
    }
    if workspace.billing_customer_id:  # a returning subscriber keeps one customer
        params["customer"] = workspace.billing_customer_id
    else:
        params["customer_email"] = email
    try:
        session = _client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        raise BillingUnavailable(str(exc)) from exc
    return session.url


def portal_url(*, workspace: Workspace, return_url: str) -> str:
    try:
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": workspace.billing_customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise BillingUnavailable(str(exc)) from exc
    return session.url
