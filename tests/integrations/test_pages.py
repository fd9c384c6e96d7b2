"""The Integrations page: setup steps, connect form, test-connection errors, health."""

import datetime as dt
import re

import pytest

from integrations.models import ProcessorConnection, SyncRun, WebhookEvent
from integrations.processors.errors import Failure
from integrations.processors.options import ConnectionOption
from integrations.processors.polar.adapter import PolarAdapter
from integrations.processors.registry import ADAPTERS
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.factories.workspaces import MembershipFactory
from tests.integrations.fake_polar import FakePolar

pytestmark = pytest.mark.django_db
TOKEN = "polar_oat_page_token_123456"


@pytest.fixture
def fake():
    with FakePolar(token=TOKEN) as server:
        yield server


def page(client) -> str:
    response = client.get("/app/integrations/")
    assert response.status_code == 200
    return response.content.decode()


def test_page_shows_the_three_steps(owner_client, workspace, settings):
    settings.TRACKREV_PUBLIC_URL = "https://trackrev.example"
    html = page(owner_client)
    assert "Step 1 · Paste the pixel" in html
    assert "Step 2 · Pass the visitor id to your Polar checkout" in html
    assert "window.trackrev.visitorId()" in html and "customerMetadata: {trackrev_visitor_id" in html
    assert "Step 3 · Connect Polar" in html
    for scope in ("orders:read", "subscriptions:read", "customers:read", "refunds:read"):
        assert f"<code>{scope}</code>" in html
    assert f"https://trackrev.example/webhooks/polar/{workspace.public_id}" in html
    for event in ("order.paid", "subscription.revoked", "refund.created"):
        assert event in html
    assert "Not connected yet" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline code


def offered(html: str) -> list[str]:
    return re.findall(r'data-processor="([^"]+)"', html)


def test_pages_offer_exactly_the_processors_with_an_adapter(owner_client):
    integrations, overview = page(owner_client), owner_client.get("/app/").content.decode()

    assert offered(integrations) == list(ADAPTERS) == ["polar", "stripe"]
    assert re.findall(r'action="/app/integrations/(\w+)/', integrations) == ["polar", "stripe"]
    assert "Paddle and Lemon Squeezy: coming soon" in integrations
    assert "Connect a processor</a> (Polar or Stripe; Paddle and Lemon Squeezy coming soon)" in overview


def test_a_new_adapter_is_offered_everywhere_by_itself(owner_client, monkeypatch):
    monkeypatch.setitem(
        ADAPTERS, "stripe", type("StripeAdapter", (PolarAdapter,), {"key": "stripe", "display_name": "Stripe"})
    )

    integrations, overview = page(owner_client), owner_client.get("/app/").content.decode()

    assert offered(integrations) == ["polar", "stripe"]
    assert "Step 3 · Connect Stripe" in integrations and "Paddle and Lemon Squeezy: coming soon" in integrations
    assert "Connect a processor</a> (Polar or Stripe; Paddle and Lemon Squeezy coming soon)" in overview


def test_connect_with_the_form_then_test_reports_success(owner_client, workspace, fake):
    response = owner_client.post(
        "/app/integrations/polar/connect/",
        {"api_token": TOKEN, "webhook_secret": POLAR_SECRET, "api_base_url": fake.base_url},
        follow=True,
    )
    html = response.content.decode()
    connection = ProcessorConnection.objects.get(workspace=workspace)
    assert (connection.api_token, connection.api_base_url) == (TOKEN, fake.base_url)
    assert "Connected. Importing the last 90 days" in html
    assert "Connected: the token can read Polar orders." in html
    assert TOKEN not in html and POLAR_SECRET not in html
    assert SyncRun.objects.get().kind == "backfill"

    # Saving again with blank secrets keeps them.
    owner_client.post(
        "/app/integrations/polar/connect/", {"api_token": "", "webhook_secret": "", "api_base_url": fake.base_url}
    )
    connection.refresh_from_db()
    assert (connection.api_token, connection.webhook_secret) == (TOKEN, POLAR_SECRET)


def test_form_errors_are_shown_and_nothing_is_saved(owner_client):
    response = owner_client.post("/app/integrations/polar/connect/", {"api_token": "", "webhook_secret": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ProcessorConnection.objects.exists()


def test_test_connection_explains_a_bad_token(owner_client, workspace, fake):
    ProcessorConnectionFactory(workspace=workspace, api_base_url=fake.base_url, api_token="polar_oat_revoked")
    html = owner_client.post("/app/integrations/polar/test/", follow=True).content.decode()
    assert Failure.TOKEN_REJECTED in html


def test_test_connection_explains_an_unreachable_api(owner_client, workspace):
    ProcessorConnectionFactory(workspace=workspace, api_base_url="http://127.0.0.1:9/v1")
    html = owner_client.post("/app/integrations/polar/test/", follow=True).content.decode()
    assert Failure.UNREACHABLE in html


def test_viewers_cannot_connect_or_sync(client, workspace):
    viewer = MembershipFactory(workspace=workspace, role="viewer").user
    client.force_login(viewer)
    assert client.post("/app/integrations/polar/connect/", {"api_token": "t", "webhook_secret": "s"}).status_code == 403
    assert client.post("/app/integrations/polar/sync/").status_code == 403
    assert not ProcessorConnection.objects.exists()


def test_health_shows_webhooks_failures_sync_and_backfill(owner_client, workspace):
    connection = ProcessorConnectionFactory(workspace=workspace)
    WebhookEvent.objects.create(
        workspace=workspace, connection=connection, processor="polar", delivery_id="x", body="{}", status="failed"
    )
    SyncRun.objects.create(
        workspace=workspace,
        connection=connection,
        kind="backfill",
        status="running",
        progress="orders: page 3 of 12",
        created=250,
        window_start=dt.datetime(2026, 8, 29, tzinfo=dt.UTC),
    )
    html = page(owner_client)
    assert "Last webhook" in html and "ago" in html
    assert "1 in the last 24 hours, 1 in total" in html
    assert "orders since Aug 29, 2026 · orders: page 3 of 12 · 250 imported" in html
    assert "Test connection" in html and "Sync now" in html
    assert connection.api_token not in html and connection.webhook_secret not in html


def test_sync_now_queues_a_run(owner_client, workspace, django_capture_on_commit_callbacks):
    ProcessorConnectionFactory(workspace=workspace)
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post("/app/integrations/polar/sync/")
    assert SyncRun.objects.get().status == "queued"
    assert len(callbacks) == 1


def test_the_connect_form_asks_for_the_options_its_adapter_declares(owner_client, workspace, fake, monkeypatch):
    option = ConnectionOption("store_id", "Store id", help_text="The store to read.", pattern=r"\d+")
    monkeypatch.setitem(
        ADAPTERS,
        "stripe",
        type(
            "StripeAdapter",
            (PolarAdapter,),
            {"key": "stripe", "display_name": "Stripe", "connection_options": (option,)},
        ),
    )
    html = page(owner_client)
    assert 'id="id_stripe_store_id"' in html and "The store to read." in html
    assert 'id="id_stripe_organization_id"' not in html and 'id="id_polar_organization_id"' in html

    form = {"api_token": TOKEN, "webhook_secret": POLAR_SECRET, "api_base_url": fake.base_url}
    refused = owner_client.post("/app/integrations/stripe/connect/", {**form, "store_id": "abc"})
    assert refused.status_code == 400 and not ProcessorConnection.objects.exists()
    owner_client.post("/app/integrations/stripe/connect/", {**form, "store_id": "42", "organization_id": "x"})
    assert ProcessorConnection.objects.get(processor="stripe").options == {"store_id": "42"}
    assert 'value="42"' in page(owner_client)  # shown again as stored
