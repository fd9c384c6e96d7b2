"""Who may move credit (issue 11 item 2, README "Who may move credit"). A browser's `identify(email)`
needs no secret, so it may only stand in for a visitor id the checkout lost, and such a match is marked
unverified; only bindings from the customer's backend (`POST /api/v1/identify/`, behind an API key)
join another visitor's touches into an order."""

import datetime as dt

import pytest
import time_machine

from attribution.models import Credit, Identity, OrderAttribution
from attribution.selectors.orders import order_attribution_get
from attribution.services.conversions import conversion_record, identities_apply
from attribution.services.pixel import identity_bind
from integrations.models import Order
from tests.attribution.pixel_helpers import hit, post
from tests.factories.engine import OrderFactory, SubscriptionFactory, TouchFactory
from tests.factories.integrations import ProcessorConnectionFactory, webhook_deliver
from tests.factories.workspaces import WorkspaceFactory
from tests.integrations.polar import payload
from trackrev.common.emails import email_digest

pytestmark = pytest.mark.django_db

PLACED = dt.datetime(2026, 9, 3, 14, 22, tzinfo=dt.UTC)  # the reference order's creation time
VICTIM = "v_01J8Z3K2M4"  # the reference order's customer metadata: the victim's own browser
VICTIM_EMAIL = "jana@example.com"  # the reference order's customer email
STRANGER = "s7r4ng3r5tr4ng3r5tr4ng3r5tr4ng3r"


def partner_name(*, workspace_id, code):
    return {"acme": "Acme Partner"}.get(code)


@pytest.fixture(autouse=True)
def _partners(settings):
    settings.PARTNER_RESOLVER = "tests.attribution.test_identify_trust.partner_name"


@pytest.fixture
def connection():
    return ProcessorConnectionFactory()


def stranger_lands_and_identifies(client, workspace, *, landed, identified):
    """What anyone's browser can do: land through a partner link, then identify with any email."""
    with time_machine.travel(landed, tick=False):
        assert post(client, hit(workspace, v=STRANGER, u="https://shop.example.com/?via=acme")).status_code == 204
    with time_machine.travel(identified, tick=False):
        assert post(client, hit(workspace, v=STRANGER, k="id", e=VICTIM_EMAIL)).status_code == 204
    assert Identity.objects.filter(visitor_id=STRANGER, source="browser").exists()


def last_touch(order):
    return sorted(Credit.objects.filter(order=order, model="last_touch").values_list("channel", flat=True))


@pytest.mark.parametrize("hours", [-5, 3], ids=["identified-before-the-purchase", "identified-after-it"])
def test_a_strangers_identify_does_not_take_over_the_victims_order(client, connection, committed, broker, hours):
    workspace = connection.workspace
    TouchFactory(
        workspace=workspace, visitor_id=VICTIM, occurred_at=PLACED - dt.timedelta(days=2), channel="Newsletter"
    )
    landed = PLACED - dt.timedelta(hours=6)
    stranger_lands_and_identifies(client, workspace, landed=landed, identified=PLACED + dt.timedelta(hours=hours))
    webhook_deliver(connection, payload("order_created_purchase"), committed, broker)
    with committed():
        identities_apply(workspace=workspace)
    broker.run()
    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by) == (VICTIM, "metadata")
    for model in ("last_touch", "first_touch", "linear"):
        channels = set(Credit.objects.filter(order=order, model=model).values_list("channel", flat=True))
        assert channels == {"Newsletter"}, model
    assert order_attribution_get(order_id=order.pk).match_verified


def test_a_browser_binding_stands_in_for_a_lost_visitor_id_but_is_not_verified(client, connection, committed, broker):
    workspace = connection.workspace
    body = payload("order_created_purchase")
    body["data"]["customer"]["metadata"] = {}  # the checkout lost the visitor id
    landed = PLACED - dt.timedelta(hours=2)
    stranger_lands_and_identifies(client, workspace, landed=landed, identified=landed + dt.timedelta(minutes=5))
    webhook_deliver(connection, body, committed, broker)
    order = Order.objects.get()
    assert (order.visitor_id, order.matched_by, last_touch(order)) == (STRANGER, "email", ["Acme Partner"])
    state = order_attribution_get(order_id=order.pk)
    assert not state.match_verified  # the affiliate engine pays nothing on this

    # The customer's backend vouches for the buyer's own visitor: the verified binding wins.
    TouchFactory(
        workspace=workspace, visitor_id=VICTIM, occurred_at=PLACED - dt.timedelta(days=2), channel="Newsletter"
    )
    identity_bind(workspace_id=workspace.pk, visitor_id=VICTIM, email=VICTIM_EMAIL, source="server", now=PLACED)
    with committed():
        identities_apply(workspace=workspace)
    broker.run()
    order.refresh_from_db()
    assert (order.visitor_id, order.matched_by, last_touch(order)) == (VICTIM, "email", ["Newsletter"])
    newer = order_attribution_get(order_id=order.pk)
    assert newer.match_verified and newer.revision > state.revision


def test_a_browser_match_becomes_verified_when_the_backend_confirms_it(workspace):
    order = OrderFactory(workspace=workspace, customer_email_digest=email_digest(VICTIM_EMAIL))
    identity_bind(workspace_id=workspace.pk, visitor_id=VICTIM, email=VICTIM_EMAIL, now=order.placed_at)
    conversion_record(order_id=order.pk)
    assert not OrderAttribution.objects.get(order=order).match_verified
    identity_bind(workspace_id=workspace.pk, visitor_id=VICTIM, email=VICTIM_EMAIL, source="server")
    assert identities_apply(workspace=workspace) == 1
    assert OrderAttribution.objects.get(order=order).match_verified


def test_a_renewal_credited_through_an_unverified_first_order_is_unverified(workspace):
    digest = email_digest(VICTIM_EMAIL)
    subscription = SubscriptionFactory(workspace=workspace)
    first = OrderFactory(
        workspace=workspace, kind="subscription_create", subscription=subscription, customer_email_digest=digest
    )
    renewal = OrderFactory(
        workspace=workspace,
        kind="renewal",
        subscription=subscription,
        placed_at=first.placed_at + dt.timedelta(days=30),
        external_id="renewal",
    )
    identity_bind(workspace_id=workspace.pk, visitor_id=STRANGER, email=VICTIM_EMAIL, now=first.placed_at)
    conversion_record(order_id=first.pk)
    assert not order_attribution_get(order_id=renewal.pk).match_verified


def test_only_server_bindings_join_another_visitors_touches(workspace):
    """The same buyer on a phone and a laptop: the laptop's browser binding alone joins nothing; the
    backend's binding of the phone does."""
    TouchFactory(workspace=workspace, visitor_id="phone", occurred_at=PLACED - dt.timedelta(days=3), channel="YouTube")
    TouchFactory(workspace=workspace, visitor_id="laptop", occurred_at=PLACED - dt.timedelta(days=9), channel="Google")
    order = OrderFactory(
        workspace=workspace,
        visitor_id="laptop",
        matched_by="metadata",
        placed_at=PLACED,
        customer_email_digest=email_digest(VICTIM_EMAIL),
    )
    identity_bind(workspace_id=workspace.pk, visitor_id="phone", email=VICTIM_EMAIL, now=PLACED)
    conversion_record(order_id=order.pk)
    assert last_touch(order) == ["Google"]
    identity_bind(workspace_id=workspace.pk, visitor_id="phone", email=VICTIM_EMAIL, source="server", now=PLACED)
    identities_apply(workspace=workspace)
    assert last_touch(order) == ["YouTube"]


# POST /api/v1/identify/ (CONTRACTS.md §5)

BROWSER = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # as trackrev.visitorId() makes them


def identify(api_client, body):
    return api_client.post("/api/v1/identify/", body, format="json")


def test_identify_api_stores_a_verified_binding_in_the_keys_workspace_only(api_client, workspace):
    other = WorkspaceFactory()
    response = identify(api_client, {"visitor_id": BROWSER, "email": "Jana@Example.com "})
    assert response.status_code == 204 and response.content == b""
    identity = Identity.objects.get()
    assert (identity.workspace_id, identity.visitor_id, identity.source) == (workspace.pk, BROWSER, "server")
    assert identity.email_digest == email_digest(VICTIM_EMAIL)
    assert not Identity.objects.filter(workspace=other).exists()
    assert identify(api_client, {"visitor_id": BROWSER, "email": VICTIM_EMAIL}).status_code == 204  # idempotent
    assert Identity.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": VICTIM_EMAIL}, "visitor_id"),
        ({"visitor_id": BROWSER}, "email"),
        ({"visitor_id": "short", "email": VICTIM_EMAIL}, "visitor_id"),
        ({"visitor_id": "x" * 65, "email": VICTIM_EMAIL}, "visitor_id"),
        ({"visitor_id": BROWSER[:20] + "<script>", "email": VICTIM_EMAIL}, "visitor_id"),
        ({"visitor_id": BROWSER, "email": "not-an-email"}, "email"),
        ({"visitor_id": BROWSER, "email": "a" * 250 + "@example.com"}, "email"),
        ({"visitor_id": ["v"], "email": {"a": 1}}, "visitor_id"),
    ],
)
def test_identify_api_answers_bad_input_with_field_errors_and_stores_nothing(api_client, body, field):
    response = identify(api_client, body)
    assert response.status_code == 400 and field in response.json()
    assert not Identity.objects.exists()


def test_identify_api_needs_a_key(client):
    body = {"visitor_id": BROWSER, "email": VICTIM_EMAIL}
    assert client.post("/api/v1/identify/", body, HTTP_AUTHORIZATION="Bearer trk_nope").status_code == 401
    assert client.post("/api/v1/identify/", body).status_code == 401
    assert not Identity.objects.exists()
