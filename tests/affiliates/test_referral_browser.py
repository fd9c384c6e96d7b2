"""The acceptance's first step in a real headless Chromium: a visitor clicks the partner's link, lands on
the customer's site (another origin, embedding p.js), and buys through Polar with the visitor id p.js
gives the checkout; the webhook closes the loop and the commission writes itself."""

import pytest
from django.utils import timezone

from affiliates.models import Click, Commission
from attribution.models import Touch
from tests.affiliates.scenario import polar_order
from tests.attribution.test_pixel_browser import collect, page, pixel_browser, serve  # noqa: F401 (fixtures)
from tests.factories.affiliates import PartnerFactory, ProgramFactory
from tests.factories.integrations import ProcessorConnectionFactory, webhook_deliver
from tests.factories.workspaces import WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_browser_through_the_partner_link_then_a_polar_purchase_earns_the_partner_20_percent(
    serve,  # noqa: F811
    page,  # noqa: F811
    live_server,
    committed,
    broker,
):
    workspace = WorkspaceFactory(plan="pro", allowed_domains=["site.test"])
    site = serve(workspace)
    program = ProgramFactory(workspace=workspace, destination_url=site.url("/pricing.html"), commission_value="20")
    partner = PartnerFactory(program=program, code="acme", name="Acme Blog")
    connection = ProcessorConnectionFactory(workspace=workspace)

    collect(page, lambda: page.goto(f"{live_server.url}/r/acme"))
    assert page.url == site.url("/pricing.html?via=acme")
    visitor = page.evaluate("window.trackrev.visitorId()")
    touch = Touch.objects.get(workspace=workspace, visitor_id=visitor)
    assert (touch.channel, touch.channel_group, touch.partner_code) == ("Acme Blog", "Affiliates", "acme")
    assert Click.objects.filter(partner=partner).count() == 1

    # The checkout carries the id p.js gave it (trackrev.visitorId()) in the customer's metadata.
    webhook_deliver(connection, polar_order(visitor=visitor, placed=timezone.now()), committed, broker)
    commission = Commission.objects.get()
    assert (commission.partner, commission.status, commission.amount_minor) == (partner, "pending", 882)
