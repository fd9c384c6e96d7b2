"""Each processor's Integrations page in real headless Chromium: its own three steps (the pixel, the
visitor id through that processor's checkout, the key and webhook), written for that processor and
naming no other, with a webhook URL that copies, and the connection's health."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import SyncRun, WebhookEvent
from integrations.processors.registry import ADAPTERS
from tests.factories.integrations import ProcessorConnectionFactory
from tests.factories.workspaces import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def signed_in(browser, live_server, workspace):
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role="owner")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/")
    return page


def connected(workspace, key: str) -> None:
    adapter = ADAPTERS[key]
    connection = ProcessorConnectionFactory(
        workspace=workspace, processor=key, api_base_url=adapter.default_api_base_url
    )
    WebhookEvent.objects.create(
        workspace=workspace, connection=connection, processor=key, delivery_id=f"{key}-1", body="{}", status="processed"
    )
    finished = timezone.now() - dt.timedelta(minutes=20)
    SyncRun.objects.create(
        workspace=workspace,
        connection=connection,
        status="succeeded",
        fetched=12,
        created=2,
        missed_by_webhook=2,
        started_at=finished,
        finished_at=finished,
    )


@pytest.mark.parametrize("key", sorted(ADAPTERS))
def test_each_processors_page_shows_its_own_three_steps_and_health(signed_in, live_server, workspace, key):
    connected(workspace, key)
    name = ADAPTERS[key].display_name
    page = signed_in
    page.goto(f"{live_server.url}/app/integrations/")
    page.click(f"[data-processor={key}] th a")
    page.wait_for_url(f"{live_server.url}/app/integrations/{key}/")

    headings = page.locator("main h2").all_inner_texts()
    steps = [h for h in headings if h.startswith("Step ")]
    assert steps == [
        "Step 1 · Paste the pixel",
        f"Step 2 · Pass the visitor id to your {name} checkout",
        f"Step 3 · Connect {name}",
    ]
    setup = page.locator(f"#{key}-checkout, #{key}-connect").all_inner_texts()
    others = [a.display_name for k, a in ADAPTERS.items() if k != key]
    assert all(other not in text for other in others for text in setup)
    for event in ADAPTERS[key].webhook_events:
        assert event in setup[1]

    webhook_url = f"/webhooks/{key}/{workspace.public_id}"
    page.click(f'[data-copy="{key}-webhook-url"]')
    page.wait_for_selector(f'[data-copy-status="{key}-webhook-url"]:has-text("Copied.")')
    assert page.evaluate("navigator.clipboard.readText()").endswith(webhook_url)

    health = page.locator(f"#{key}-health").inner_text()
    assert f"{name} connection health" in health
    assert "ago" in health.split("Last webhook", 1)[1].split("Failed deliveries", 1)[0]
    assert "Succeeded" in health and "missed by webhooks 2" in health
    assert page.locator(f"#{key}-health button", has_text="Test connection").is_visible()
