"""Every entry of the navigation, main and settings tabs, leads to a working page with its own title,
and no page promises what is not built: no plan upsell on a plan that has it, no link that goes
nowhere, and the features still to come say so and offer nothing to click."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.urls import Resolver404, resolve

from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.error_views import api_not_found

pytestmark = pytest.mark.django_db
COMING: set[str] = set()  # features of later issues: their pages say they are coming (none now)


@dataclass
class Link:
    href: str
    text: str = ""
    current: bool = False


class Page(HTMLParser):
    """The parts of a rendered page the checks read: title, h1, the navs, links and forms in main."""

    def __init__(self):
        super().__init__()
        self.title = self.h1 = ""
        self.navs: dict[str, list[Link]] = {}
        self.main_links: list[str] = []
        self.main_actions = 0
        self._nav = self._in = None
        self._main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            self._nav = attrs.get("aria-label")
            self.navs.setdefault(self._nav, [])
        elif tag == "main":
            self._main = True
        elif tag == "h1" or (tag == "title" and not self._main):  # not a chart bar's <title> tooltip
            self._in = tag
        elif tag == "a":
            if self._nav:
                self.navs[self._nav].append(Link(attrs["href"], current=attrs.get("aria-current") == "page"))
            if self._main:
                self.main_links.append(attrs.get("href", ""))
        if self._main and tag in ("form", "button"):
            self.main_actions += 1

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav = None
        elif tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            setattr(self, self._in, (getattr(self, self._in) + data).strip())
        if self._nav and self.navs[self._nav] and self.navs[self._nav][-1].text == "":
            self.navs[self._nav][-1].text = data.strip()


def visit(client, url: str) -> tuple[Page, str]:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    page = Page()
    page.feed(html)
    return page, html


def leads_somewhere(href: str) -> bool:
    if not href.startswith("/"):
        return True  # anchors, mailto: and other sites are not ours to resolve
    try:
        return resolve(href.split("?")[0]).func is not api_not_found
    except Resolver404:
        return False


def check_promises_nothing_unbuilt(page: Page, html: str, *, heading: str) -> None:
    assert "Available on the Pro plan" not in html
    assert all(leads_somewhere(href) for href in page.main_links), page.main_links
    # An API path named in the text (not only in links) must exist too.
    assert all(leads_somewhere(path) for path in re.findall(r"/api/v1/[\w\-/]*", html))
    if heading in COMING:
        assert "coming soon" in html.lower()
        assert page.main_actions == 0  # nothing to submit or click that could only fail


@pytest.fixture
def pro_client(client):
    owner = MembershipFactory(workspace=WorkspaceFactory(plan="pro"), role="owner").user
    client.force_login(owner)
    return client


def test_every_main_nav_entry_leads_to_its_working_page(pro_client):
    home, _ = visit(pro_client, "/app/")
    entries = home.navs["Main"]
    assert [e.text for e in entries] == ["Overview", "Orders", "Integrations", "Affiliates", "Webhooks", "Settings"]

    for entry in entries:
        page, html = visit(pro_client, entry.href)

        assert page.h1.startswith(entry.text) and page.title.startswith(entry.text), (page.h1, page.title)
        assert [e.text for e in page.navs["Main"] if e.current] == [entry.text]
        check_promises_nothing_unbuilt(page, html, heading=entry.text)


def test_every_settings_tab_keeps_settings_highlighted_under_one_title_pattern(pro_client):
    settings, _ = visit(pro_client, "/app/settings/")
    tabs = settings.navs["Settings"]
    assert [t.text for t in tabs] == ["General", "Members", "API keys", "Channels", "Usage"]

    for tab in tabs:
        page, html = visit(pro_client, tab.href)

        assert page.h1 == f"Settings · {tab.text}"
        assert page.title == f"Settings · {tab.text} · TrackRev"
        assert [e.text for e in page.navs["Main"] if e.current] == ["Settings"]
        assert [t.text for t in page.navs["Settings"] if t.current] == [tab.text]
        check_promises_nothing_unbuilt(page, html, heading="Settings")
