"""The Webhooks page in real headless Chromium: add an endpoint, copy its secret (shown once), send a test
event, and read the delivery's attempts."""

import re

import pytest
from standardwebhooks import Webhook

from integrations.models import Delivery
from integrations.services.outbound_webhooks import delivery_send
from tests.factories.workspaces import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def signed_in(browser, live_server, workspace):
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role="owner")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/")
    return page


def test_add_an_endpoint_send_a_test_event_and_read_its_attempts(signed_in, live_server, receiver, local_outbound):
    hook = receiver(body=b'{"received": true}')
    page = signed_in
    page.click("nav >> text=Webhooks")
    assert page.locator("text=No endpoints yet").is_visible()

    page.fill("input[name=url]", hook.url)
    page.uncheck("input[value='sale.updated']")
    page.click("button:has-text('Add endpoint')")
    secret = page.locator("#secret code").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret)
    assert page.locator("#endpoints tbody tr").count() == 1
    assert "sale.created sale.refunded" in page.locator("#endpoints tbody tr td").nth(1).inner_text()

    page.click("button:has-text('Send test event')")
    assert page.locator("text=Test event queued").is_visible()
    assert page.locator("#secret").count() == 0  # the secret is never shown again
    row = page.locator("#deliveries tbody tr")
    assert "webhook.test" in row.inner_text() and "none yet" in row.inner_text()

    delivery_send(delivery_id=Delivery.objects.get().pk)  # what the worker does with the queued delivery
    page.reload()
    page.click("#deliveries summary")
    attempt = page.locator("#deliveries .attempts li").inner_text()
    assert "HTTP 200 in" in attempt and '{"received": true}' in attempt
    assert "Delivered" in page.locator("#deliveries [data-status]").inner_text()
    headers, body = hook.requests[0]
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
