"""Every dashboard page in real headless Chromium at a desktop and a phone width, with the demo's data
and longer names than it has: the page never scrolls sideways, a table wider than the screen scrolls in
its own box that shows there is more (on a desktop none needs to), the buttons of one row have one size
and room between them, the labels of one row of filters stand in one line, and the chart's labels stay legible."""

import pytest

from attribution.services.channels import channel_rule_create
from integrations.models import Order
from integrations.processors.registry import ADAPTERS
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.workspaces.demo import demo_seed
from trackrev.workspaces.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)
LONG_CHANNEL = "Weekly digest newsletter — sponsored placements & partner swaps (EU + US lists)"

# What a person would see as broken, measured in the page.
LAYOUT = """() => {
  const sideways = Math.max(0, document.documentElement.scrollWidth - window.innerWidth);
  const hidden_tables = [...document.querySelectorAll("main table")].filter((table) => {
    const box = table.closest(".table-scroll");
    if (table.getBoundingClientRect().width <= (box || table.parentElement).clientWidth + 1) return false;
    const style = box && getComputedStyle(box);
    return !(style && style.overflowX === "auto" && style.backgroundImage !== "none");
  }).map((table) => table.id || table.querySelector("th").textContent);
  const cards = [...document.querySelectorAll("main .card")];
  const rows = {};
  for (const button of document.querySelectorAll("main button, main .button-link")) {
    const r = button.getBoundingClientRect();
    if (!r.height || button.closest("td")) continue;  // one per table row
    const key = cards.indexOf(button.closest(".card")) + "@" + Math.round(r.top + r.height / 2);
    (rows[key] = rows[key] || []).push(r);
  }
  const uneven_rows = Object.entries(rows).filter(([, rs]) => {
    const sorted = rs.sort((a, b) => a.left - b.left);
    const heights = new Set(sorted.map((r) => Math.round(r.height)));
    return heights.size > 1 || sorted.some((r, i) => i && r.left - sorted[i - 1].right < 8);
  }).map(([key]) => key);
  const filter_rows = {};
  for (const field of document.querySelectorAll(".filters > div:not(.check)")) {
    const label = field.querySelector("label"), input = field.querySelector("input, select");
    if (!label || !input) continue;
    const key = Math.round(input.getBoundingClientRect().bottom);
    (filter_rows[key] = filter_rows[key] || new Set()).add(Math.round(label.getBoundingClientRect().top));
  }
  const ragged_filters = Object.values(filter_rows).filter((tops) => tops.size > 1).length;
  const tiny_text = [...document.querySelectorAll("main svg text")].filter(
    (text) => text.getBoundingClientRect().height < 9).length;  // CSS px: a chart label one can read
  return {sideways, hidden_tables, uneven_rows, ragged_filters, tiny_text};
}"""

FITS = """() => ({scrolling: [...document.querySelectorAll("main .table-scroll")]
  .filter((box) => box.scrollWidth > box.clientWidth + 1).map((box) => box.querySelector("table").id)})"""


def test_no_page_scrolls_sideways_and_every_table_stays_readable(browser, live_server, broker):
    login = demo_seed()
    user = User.objects.get(email=login.email)
    # A second workspace with a long name puts the workspace switcher in the header.
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="Northwind Analytics International · Growth"))
    channel_rule_create(
        workspace=login.workspace,
        field="source",
        operator="equals",
        value="newsletter",
        channel=LONG_CHANNEL,
        channel_group="Email",
    )
    broker.run()  # re-label the touches, then recompute credits and rollups with the long name
    orders = Order.objects.filter(workspace=login.workspace)
    refunded = orders.filter(refunded_minor__gt=0).exclude(visitor_id="").first()
    pages = [
        "/app/",
        "/app/?compare=on&group_by=campaign",
        "/app/orders/",
        f"/app/orders/{refunded.pk}/",
        "/app/integrations/",
        *(f"/app/integrations/{key}/" for key in ADAPTERS),
        "/app/affiliates/",
        "/app/webhooks/",
        "/app/settings/",
        "/app/settings/members/",
        "/app/settings/api-keys/",
        "/app/settings/channels/",
    ]
    page = browser.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", login.email)
    page.fill("input[name=password]", login.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/")
    assert LONG_CHANNEL in page.inner_text("#channels")

    broken = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            page.goto(f"{live_server.url}{path}")
            layout = page.evaluate(LAYOUT)
            if layout != {"sideways": 0, "hidden_tables": [], "uneven_rows": [], "ragged_filters": 0, "tiny_text": 0}:
                broken[(width, path)] = layout
            if width == WIDTHS[0]:  # on a desktop every table fits its card, the orders list too
                layout = page.evaluate(FITS)
                if layout["scrolling"]:
                    broken[(width, path)] = layout

    assert not broken, "\n".join(f"{where}: {layout}" for where, layout in broken.items())
