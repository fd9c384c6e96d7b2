"""TrackRev's own billing: "Upgrade to Pro" through Stripe Checkout (Stripe's HTTP mocked with
`responses`, answering the documented Checkout Session shape), and the subscription's webhook events
(Stripe's Event shape, signed exactly as Stripe signs) setting and unsetting the plan."""

import copy
import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import parse_qsl

import pytest
import responses
import stripe
import time_machine

from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from tests.integrations.stripe import payload
from trackrev.workspaces.models import Workspace

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)
SECRET = "whsec_billing0Tq4Rz8Lm2Vx6Np1Ks9Hd3Fa"
PRICE = "price_1QyPro0LkdIwHu7ixMonthly"
CUSTOMER, SUBSCRIPTION = "cus_Trk9Ab8Cd7Ef6G", "sub_1QyTrk0LkdIwHu7ixPro00001"
SESSIONS = "https://api.stripe.com/v1/checkout/sessions"
PORTAL = "https://api.stripe.com/v1/billing_portal/sessions"
CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6g7H8i9J0#fidkdWxOYHwnPyd1blpxYHZxWjA0"


@pytest.fixture
def billing(settings):
    settings.BILLING_STRIPE_API_KEY = "sk_test_51QyTrackRevOwnBillingKey0001"
    settings.BILLING_STRIPE_WEBHOOK_SECRET = SECRET
    settings.BILLING_STRIPE_PRO_PRICE = PRICE
    return settings


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def member(client, role="owner", **workspace):
    membership = MembershipFactory(role=role, workspace=WorkspaceFactory(**workspace))
    client.force_login(membership.user)
    return membership


def open_session(workspace) -> dict:
    """The Checkout Session Stripe answers on create (docs.stripe.com/api/checkout/sessions/object)."""
    session = copy.deepcopy(payload("checkout.session.completed")["data"]["object"])
    session.update(
        id="cs_test_a1B2c3D4e5F6g7H8i9J0",
        livemode=False,
        client_reference_id=workspace.public_id,
        customer=None,
        subscription=None,
        status="open",
        payment_status="unpaid",
        url=CHECKOUT_URL,
        metadata={"trackrev_workspace": workspace.public_id},
    )
    return session


def event(name: str, created: dt.datetime, **obj) -> dict:
    """A Stripe Event (docs.stripe.com/api/events/object) of the reference payload file `name`."""
    body = payload(name, **obj)
    body.update(created=int(created.timestamp()), livemode=False)
    return body


def checkout_completed(workspace, created=NOW, **obj) -> dict:
    fields = dict(
        client_reference_id=workspace.public_id,
        customer=CUSTOMER,
        subscription=SUBSCRIPTION,
        metadata={"trackrev_workspace": workspace.public_id},
    )
    return event("checkout.session.completed", created, **(fields | obj))


def subscription_event(kind, workspace, created, status, subscription=SUBSCRIPTION) -> dict:
    return event(
        f"customer.subscription.{kind}",
        created,
        id=subscription,
        customer=CUSTOMER,
        status=status,
        metadata={"trackrev_workspace": workspace.public_id},
    )


def stripe_signature(body: bytes, secret: str = SECRET, at: dt.datetime = NOW) -> str:
    """As Stripe signs (docs.stripe.com/webhooks/signature): `t=<unix>,v1=hex(HMAC-SHA256(secret, "t.body"))`."""
    stamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{stamp}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
    assert digest == stripe.WebhookSignature._compute_signature(f"{stamp}.{body.decode()}", secret)  # the SDK agrees
    return f"t={stamp},v1={digest}"


def deliver(client, body: dict, **signing):
    raw = json.dumps(body, indent=2).encode()  # Stripe sends pretty-printed JSON; the signature covers these bytes
    return client.post(
        "/billing/stripe/webhook/",
        raw,
        content_type="application/json; charset=utf-8",
        headers={"Stripe-Signature": stripe_signature(raw, **signing)},
    )


def plan_of(workspace) -> tuple[str, str, str]:
    workspace.refresh_from_db()
    return workspace.plan, workspace.billing_customer_id, workspace.billing_subscription_id


# --- Upgrading ------------------------------------------------------------------------------------------


@responses.activate
def test_upgrade_creates_a_subscription_checkout_and_redirects_to_it(client, billing):
    membership = member(client, plan="free")
    workspace = membership.workspace
    responses.post(SESSIONS, json=open_session(workspace))
    assert b"data-upgrade" in client.get("/app/settings/usage/").content

    response = client.post("/app/settings/usage/upgrade/")

    assert response.status_code == 303 and response["Location"] == CHECKOUT_URL
    [call] = responses.calls
    assert call.request.headers["Authorization"] == f"Bearer {billing.BILLING_STRIPE_API_KEY}"
    sent = dict(parse_qsl(call.request.body))
    usage = f"{billing.TRACKREV_PUBLIC_URL}/app/settings/usage/"
    assert sent == {
        "mode": "subscription",
        "line_items[0][price]": PRICE,
        "line_items[0][quantity]": "1",
        "client_reference_id": workspace.public_id,
        "customer_email": membership.user.email,
        "subscription_data[metadata][trackrev_workspace]": workspace.public_id,
        "metadata[trackrev_workspace]": workspace.public_id,
        "success_url": f"{usage}?checkout=success",
        "cancel_url": f"{usage}?checkout=canceled",
    }
    assert plan_of(workspace) == ("free", "", "")  # the plan waits for the webhook


@responses.activate
def test_a_returning_subscriber_checks_out_as_the_same_customer(client, billing):
    workspace = member(client, plan="free").workspace
    Workspace.objects.filter(pk=workspace.pk).update(billing_customer_id=CUSTOMER)
    responses.post(SESSIONS, json=open_session(workspace))
    client.post("/app/settings/usage/upgrade/")
    sent = dict(parse_qsl(responses.calls[0].request.body))
    assert sent["customer"] == CUSTOMER and "customer_email" not in sent


@responses.activate
def test_stripe_refusing_the_session_shows_a_message_and_changes_nothing(client, billing):
    workspace = member(client, plan="free").workspace
    error = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "line_items[0][price]",
            "message": f"No such price: '{PRICE}'",
        }
    }
    responses.post(SESSIONS, json=error, status=400)
    response = client.post("/app/settings/usage/upgrade/", follow=True)
    assert response.redirect_chain == [("/app/settings/usage/", 302)]
    assert b"could not be opened just now" in response.content
    assert plan_of(workspace) == ("free", "", "")


@responses.activate
@pytest.mark.parametrize("role", ["viewer"])
def test_a_viewer_sees_no_button_and_cannot_upgrade(client, billing, role):
    member(client, role=role, plan="free")
    page = client.get("/app/settings/usage/").content.decode()
    assert "data-upgrade" not in page and "Ask an owner or admin" in page
    assert client.post("/app/settings/usage/upgrade/").status_code == 403
    assert len(responses.calls) == 0


def test_an_admin_may_upgrade(client, billing):
    member(client, role="admin", plan="free")
    assert b"data-upgrade" in client.get("/app/settings/usage/").content


@responses.activate
def test_without_a_key_there_is_no_button_and_staff_set_plans(client):
    member(client, plan="free")
    page = client.get("/app/settings/usage/").content.decode()
    assert "data-upgrade" not in page and "Plans are set by TrackRev staff" in page
    assert client.post("/app/settings/usage/upgrade/").status_code == 404
    assert len(responses.calls) == 0


@responses.activate
def test_manage_billing_opens_the_billing_portal_for_a_subscriber(client, billing):
    workspace = member(client, plan="pro").workspace
    Workspace.objects.filter(pk=workspace.pk).update(billing_customer_id=CUSTOMER)
    portal = {
        "id": "bps_1QyTrk0LkdIwHu7ix",
        "object": "billing_portal.session",
        "configuration": "bpc_1QyTrk",
        "created": int(NOW.timestamp()),
        "customer": CUSTOMER,
        "flow": None,
        "livemode": False,
        "locale": None,
        "on_behalf_of": None,
        "return_url": "https://trackrev.example.com/app/settings/usage/",
        "url": "https://billing.stripe.com/p/session/test_YWNjdF8xUXlUcms",
    }
    responses.post(PORTAL, json=portal)
    assert b"data-manage-billing" in client.get("/app/settings/usage/").content

    response = client.post("/app/settings/usage/billing/")

    assert response.status_code == 303 and response["Location"] == portal["url"]
    assert dict(parse_qsl(responses.calls[0].request.body)) == {
        "customer": CUSTOMER,
        "return_url": f"{billing.TRACKREV_PUBLIC_URL}/app/settings/usage/",
    }


# --- Webhooks -------------------------------------------------------------------------------------------


def test_a_paid_checkout_sets_pro_and_keeps_the_ids(client, billing):
    workspace = WorkspaceFactory(plan="free")
    assert deliver(client, checkout_completed(workspace)).status_code == 200
    assert plan_of(workspace) == ("pro", CUSTOMER, SUBSCRIPTION)


def test_a_checkout_still_awaiting_payment_only_links_the_subscription(client, billing):
    workspace = WorkspaceFactory(plan="free")
    deliver(client, checkout_completed(workspace, payment_status="unpaid"))
    assert plan_of(workspace) == ("free", CUSTOMER, SUBSCRIPTION)
    deliver(client, subscription_event("updated", workspace, NOW + dt.timedelta(minutes=5), "active"))
    assert plan_of(workspace)[0] == "pro"


@pytest.mark.parametrize(
    ("status", "plan"),
    [
        ("active", "pro"),
        ("trialing", "pro"),
        ("past_due", "pro"),
        ("canceled", "free"),
        ("unpaid", "free"),
        ("incomplete_expired", "free"),
    ],
)
def test_subscription_status_sets_the_plan(client, billing, status, plan):
    workspace = WorkspaceFactory(plan="free" if plan == "pro" else "pro")
    deliver(client, subscription_event("updated", workspace, NOW, status))
    assert plan_of(workspace)[0] == plan


def test_deleted_sets_free_and_a_late_older_event_does_not_bring_pro_back(client, billing):
    workspace = WorkspaceFactory(plan="free")
    deliver(client, checkout_completed(workspace, created=NOW - dt.timedelta(days=30)))
    deliver(client, subscription_event("deleted", workspace, NOW, "canceled"))
    assert plan_of(workspace)[0] == "free"

    # Stripe delivers in no order: an update from before the deletion arrives now.
    deliver(client, subscription_event("updated", workspace, NOW - dt.timedelta(days=1), "active"))
    deliver(client, checkout_completed(workspace, created=NOW - dt.timedelta(days=30)))  # and a retried old checkout
    assert plan_of(workspace) == ("free", CUSTOMER, SUBSCRIPTION)


def test_at_the_same_second_a_cancellation_wins(client, billing):
    workspace = WorkspaceFactory(plan="pro")
    deliver(client, subscription_event("deleted", workspace, NOW, "canceled"))
    deliver(client, subscription_event("updated", workspace, NOW, "active"))
    assert plan_of(workspace)[0] == "free"


def test_a_duplicate_event_is_a_no_op(client, billing):
    workspace = WorkspaceFactory(plan="free")
    completed = checkout_completed(workspace)
    deliver(client, completed)
    Workspace.objects.filter(pk=workspace.pk).update(plan="free")  # staff moved it back meanwhile
    stamp = Workspace.objects.get(pk=workspace.pk).billing_event_at

    assert deliver(client, completed).status_code == 200

    assert plan_of(workspace)[0] == "free"
    assert Workspace.objects.get(pk=workspace.pk).billing_event_at == stamp


def test_a_new_subscription_after_a_canceled_one_and_the_old_ones_late_events(client, billing):
    workspace = WorkspaceFactory(plan="free")
    deliver(client, checkout_completed(workspace, created=NOW - dt.timedelta(days=60)))
    deliver(client, subscription_event("deleted", workspace, NOW - dt.timedelta(days=30), "canceled"))
    renewed = "sub_1QyTrk0LkdIwHu7ixPro00002"
    deliver(client, checkout_completed(workspace, subscription=renewed))
    assert plan_of(workspace) == ("pro", CUSTOMER, renewed)

    # The old subscription's last word, delivered late, cancels nothing of the new one.
    deliver(client, subscription_event("updated", workspace, NOW + dt.timedelta(minutes=1), "canceled"))
    assert plan_of(workspace) == ("pro", CUSTOMER, renewed)


def test_subscription_events_find_their_workspace_without_metadata(client, billing):
    workspace = WorkspaceFactory(plan="free")
    deliver(client, checkout_completed(workspace))
    body = subscription_event("deleted", workspace, NOW + dt.timedelta(days=1), "canceled")
    body["data"]["object"]["metadata"] = {}
    deliver(client, body)
    assert plan_of(workspace)[0] == "free"


def test_unknown_events_and_other_workspaces_answer_200_and_change_nothing(client, billing):
    workspace = WorkspaceFactory(plan="free")
    assert deliver(client, event("invoice.paid", NOW)).status_code == 200
    assert (
        deliver(client, checkout_completed(workspace, client_reference_id="ws_nosuch", metadata={})).status_code == 200
    )
    assert deliver(client, checkout_completed(workspace, mode="payment")).status_code == 200
    assert plan_of(workspace) == ("free", "", "")


@pytest.mark.parametrize(
    "signing",
    [{"secret": "whsec_not_the_endpoints"}, {"at": NOW - dt.timedelta(minutes=6)}],
    ids=["wrong secret", "older than the tolerance"],
)
def test_a_bad_signature_is_400_and_writes_nothing(client, billing, signing):
    workspace = WorkspaceFactory(plan="free")
    response = deliver(client, checkout_completed(workspace), **signing)
    assert response.status_code == 400
    assert plan_of(workspace) == ("free", "", "")


def test_a_missing_signature_or_a_signed_body_that_is_not_an_event_is_400(client, billing):
    workspace = WorkspaceFactory(plan="free")
    raw = json.dumps(checkout_completed(workspace)).encode()
    assert client.post("/billing/stripe/webhook/", raw, content_type="application/json").status_code == 400
    garbage = b"[1, 2, 3]"
    signed = client.post(
        "/billing/stripe/webhook/",
        garbage,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(garbage)},
    )
    assert signed.status_code == 400
    assert plan_of(workspace) == ("free", "", "")


def test_the_webhook_needs_no_csrf_token_and_only_takes_post(billing):
    from django.test import Client

    workspace = WorkspaceFactory(plan="free")
    strict = Client(enforce_csrf_checks=True)
    assert deliver(strict, checkout_completed(workspace)).status_code == 200
    assert strict.get("/billing/stripe/webhook/").status_code == 405


def test_without_a_webhook_secret_the_endpoint_is_404(client):
    workspace = WorkspaceFactory(plan="free")
    assert deliver(client, checkout_completed(workspace)).status_code == 404
    assert plan_of(workspace)[0] == "free"
