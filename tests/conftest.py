"""Shared fixtures. PostgreSQL-only, browser and nginx tests skip locally when those are missing, and fail
instead under CI (REQUIRE_POSTGRES=1, REQUIRE_BROWSER=1, REQUIRE_NGINX=1) so they can never silently not run."""

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import TestCase
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from tests.receiver import local_outbound, receiver, resolving  # noqa: F401 (fixtures)
from trackrev.celery import app
from trackrev.workspaces.services import api_key_create

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def pytest_collection_modifyitems(config, items):
    browser_tests = [item for item in items if "browser" in item.keywords]
    if browser_tests and CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER"):  # an xfail would pass the run: stop it instead
            raise pytest.UsageError("REQUIRE_BROWSER=1 but Debian `chromium` is not installed")
        for item in browser_tests:
            item.add_marker(pytest.mark.skip(reason="Debian `chromium` is not installed"))


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if request.node.get_closest_marker("postgres") is None:
        return
    request.getfixturevalue("db")
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES=1 but the test database is not PostgreSQL (set DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def redis_url(request):
    """The real Redis that `broker` tests use (CELERY_BROKER_URL when the suite started)."""
    if not settings.TEST_BROKER_URL.startswith("redis://"):
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("CI must export CELERY_BROKER_URL=redis://… for the broker tests")
        pytest.skip("needs CELERY_BROKER_URL=redis://…")
    return settings.TEST_BROKER_URL


@pytest.fixture
def nginx_bin():
    """Debian nginx, for the tests that run the proxy recipe (.ci/run installs it)."""
    if NGINX is None:
        if os.environ.get("REQUIRE_NGINX"):
            pytest.fail("REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx-light)")
        pytest.skip("Debian `nginx` is not installed")
    return NGINX


@pytest.fixture(autouse=True)
def _broker_only(request):
    if request.node.get_closest_marker("broker") is not None:
        request.getfixturevalue("redis_url")


class Broker:
    """Stands in for the message broker at its boundary (`send_task`): holds what is sent, can be down,
    and runs what it holds in this process as a worker would, committing as a worker does."""

    def __init__(self):
        self.sent: list[tuple[str, list]] = []
        self.down = False

    def send_task(self, name, args=None, kwargs=None, **options):
        if self.down:
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, list(args or [])))

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    def run(self, count: int | None = None) -> int:
        """Run the held messages (all, or the first `count`), and those they send, oldest first, as a
        worker would; returns how many ran."""
        ran = 0
        while self.sent and (count is None or ran < count):
            name, args = self.sent.pop(0)
            with TestCase.captureOnCommitCallbacks(execute=True):  # a test transaction never commits
                app.tasks[name](*args)
            ran += 1
        return ran


@pytest.fixture(autouse=True)
def _our_celery_app():
    """Every test starts with our app as Celery's current one (`start_worker` makes the app it runs the
    current one for good, which `current_app.send_task` in the services would then reach)."""
    app.set_default()
    app.set_current()


@pytest.fixture
def broker(monkeypatch):
    app.loader.import_default_modules()
    fake = Broker()
    monkeypatch.setattr(app, "send_task", fake.send_task)
    return fake


@pytest.fixture
def committed():
    """`with committed():` runs what the block registered for after commit, as a real commit would."""
    return lambda: TestCase.captureOnCommitCallbacks(execute=True)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    """A real headless Debian Chromium driven by Playwright (its own browser download is never used)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes around it
    # are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # A connection the test opened while Playwright's loop ran in this thread is not closed by the
        # test database's teardown, which then cannot drop the database ("accessed by other users").
        connections.close_all()


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def owner(workspace):
    return MembershipFactory(workspace=workspace, role="owner").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def api_client(workspace):
    """An API client authenticated with a fresh key of `workspace`."""
    client = APIClient()
    issued = api_key_create(workspace=workspace, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    return client
