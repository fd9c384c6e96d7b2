"""The operator's Stripe account's webhook events (docs.stripe.com/api/events), verified on the raw
bytes and read into workspace_billing_apply: the subscription that pays for Pro sets and unsets it."""

import datetime as dt

import stripe
from django.conf import settings

from trackrev.workspaces.billing.stripe_api import WORKSPACE_METADATA
from trackrev.workspaces.models import Plan, Workspace
from trackrev.workspaces.services import workspace_billing_apply

TOLERANCE_SECONDS = 300  # Stripe's own default: a replayed delivery older than this is refused
# Subscription statuses (docs.stripe.com/api/subscriptions/object#subscription_object-status) and the
# plan each means; `incomplete` (a first payment still pending) changes nothing until the next event.
PRO_STATUSES = frozenset({"active", "trialing", "past_due"})
FREE_STATUSES = frozenset({"canceled", "unpaid", "incomplete_expired", "paused"})
# A completed subscription Checkout pays now, or needs no payment (a trial); otherwise (a delayed
# payment method) the subscription's own events decide.
PAID_CHECKOUT = frozenset({"paid", "no_payment_required"})


class EventInvalid(ValueError):
    """Not signed with the webhook secret, too old, or not an event."""


def event_verify(*, body: bytes, signature: str) -> None:
    """`Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of `{t}.{body}` with the endpoint's secret, checked
    by the SDK in constant time, within the tolerance."""
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature, settings.BILLING_STRIPE_WEBHOOK_SECRET, TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise EventInvalid(str(exc)) from exc


def _text(value: object) -> str:
    """An id field: a string, or an expanded object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _workspace(obj: dict, *, public_id: str = "") -> Workspace | None:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    public_id = public_id or _text(metadata.get(WORKSPACE_METADATA))
    if public_id:
        return Workspace.objects.filter(public_id=public_id).first()
    subscription, customer = _text(obj.get("id")), _text(obj.get("customer"))
    known = Workspace.objects.filter(billing_subscription_id=subscription).first() if subscription else None
    return known or (Workspace.objects.filter(billing_customer_id=customer).first() if customer else None)


def event_apply(event: dict) -> bool:
    """Apply a verified event; False for an event that is not about a workspace's Pro subscription
    (answered 200 all the same, so Stripe stops sending it)."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    created = event.get("created")
    if not isinstance(obj, dict) or not isinstance(created, int) or isinstance(created, bool):
        return False
    event_at = dt.datetime.fromtimestamp(created, dt.UTC)
    kind = event.get("type")
    if kind == "checkout.session.completed" and obj.get("mode") == "subscription":
        workspace = _workspace(obj, public_id=_text(obj.get("client_reference_id")))
        plan = Plan.PRO if obj.get("payment_status") in PAID_CHECKOUT else None
        subscription = _text(obj.get("subscription"))
    elif kind in ("customer.subscription.updated", "customer.subscription.deleted"):
        workspace = _workspace(obj)
        status = "canceled" if kind == "customer.subscription.deleted" else obj.get("status")
        plan = Plan.PRO if status in PRO_STATUSES else Plan.FREE if status in FREE_STATUSES else None
        subscription = _text(obj.get("id"))
    else:
        return False
    if workspace is None:
        return False
    workspace_billing_apply(
        workspace=workspace,
        event_at=event_at,
        plan=plan,
        customer_id=_text(obj.get("customer")),
        subscription_id=subscription,
    )
    return True
