"""No server-side request forgery: outside DEBUG a connection's API base URL is the processor's own API or a
host of PROCESSOR_API_HOSTS (the test settings list 127.0.0.1, where the local fakes listen)."""

import pytest
from django.utils.html import escape

from integrations.models import ProcessorConnection, SyncRun
from integrations.processors.errors import ApiUrlNotAllowed, Failure
from integrations.processors.polar.adapter import PolarAdapter
from integrations.processors.registry import get_adapter
from integrations.services.reconcile import sync_run_execute, sync_run_queue
from tests.factories.integrations import POLAR_SECRET, POLAR_TOKEN, ProcessorConnectionFactory
from tests.integrations.fake_polar import FakePolar

REFUSED = [
    # Loopback, private, link-local and metadata addresses, in several spellings.
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://localhost/",
    "http://10.0.0.5/v1",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    # Look-alikes of the processor's API.
    "https://api.polar.sh.evil.com/v1",
    "https://evil.com/api.polar.sh/v1",
    "https://evilapi.polar.sh/v1",
    "https://api.polar.sh:8443/v1",
    "http://api.polar.sh/v1",  # its own API, but not over https
    "https://api.polar.sh%2eevil.com/v1",
    "https://\u0430pi.polar.sh/v1",  # a Cyrillic a
    "https://\uff41pi.polar.sh/v1",  # a fullwidth a: not a valid IDNA label (requests refuses it too)
    # Userinfo, backslash and whitespace tricks (parsers disagree on where the host is).
    "https://api.polar.sh@127.0.0.1/v1",
    "https://api.polar.sh:443@127.0.0.1/v1",
    "https://user:pass@api.polar.sh/v1",
    "https://127.0.0.1\\@api.polar.sh/v1",
    "https://api.polar.sh\\.evil.com/v1",
    "https://api.polar.sh\t.evil.com/v1",
    "https://api.polar.sh /v1",
    "https://api.polar.sh\n/v1",
    # Not an http(s) URL with a host.
    "ftp://api.polar.sh/v1",
    "file:///etc/passwd",
    "https:///v1",
    "//api.polar.sh/v1",
    "https://api.polar.sh:99999/v1",
    "https://[::1/v1",
    "",
]

ALLOWED = [
    "https://api.polar.sh/v1",
    "https://sandbox-api.polar.sh/v1",
    "https://API.Polar.SH/v1",
    "https://api.polar.sh./v1",
    "https://api.polar.sh:443/v1",
    "https://api.polar.sh",
    "HTTPS://api.polar.sh/v1/",
    # PROCESSOR_API_HOSTS lists 127.0.0.1 (any port, http too): the local fakes.
    "http://127.0.0.1:8123/v1",
    "https://127.0.0.1/v1",
    "http://127.0.0.1./v1",
]


@pytest.mark.parametrize("url", REFUSED)
def test_urls_outside_the_allow_list_are_refused(url):
    with pytest.raises(ApiUrlNotAllowed):
        PolarAdapter.api_base_url_check(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_the_processors_apis_and_the_operators_hosts_are_allowed(url):
    PolarAdapter.api_base_url_check(url)


def test_without_processor_api_hosts_only_the_processors_apis_are_allowed(settings):
    settings.PROCESSOR_API_HOSTS = []
    with pytest.raises(ApiUrlNotAllowed):
        PolarAdapter.api_base_url_check("http://127.0.0.1:8123/v1")
    PolarAdapter.api_base_url_check("https://sandbox-api.polar.sh/v1")


@pytest.mark.parametrize(
    ("entries", "url", "allowed"),
    [
        (["polar-proxy.internal:8080"], "http://polar-proxy.internal:8080/v1", True),
        (["polar-proxy.internal:8080"], "http://polar-proxy.internal:8081/v1", False),
        (["polar-proxy.internal:8080"], "http://polar-proxy.internal/v1", False),
        (["Polar-Proxy.Internal."], "https://polar-proxy.internal:9443/v1", True),
        ([" polar-proxy.internal ", ""], "http://polar-proxy.internal/v1", True),
        (["[::1]:9000"], "http://[::1]:9000/v1", True),
        (["[::1]:9000"], "http://[0:0::1]:9000/v1", True),
        (["[::1]:9000"], "http://[::ffff:127.0.0.1]:9000/v1", False),
        (["bücher.example"], "https://xn--bcher-kva.example/v1", True),
        (["polar-proxy.internal"], "http://polar-proxy.internal@169.254.169.254/", False),
    ],
)
def test_processor_api_hosts_entries_are_host_or_host_and_port(settings, entries, url, allowed):
    settings.PROCESSOR_API_HOSTS = entries
    if allowed:
        PolarAdapter.api_base_url_check(url)
    else:
        with pytest.raises(ApiUrlNotAllowed):
            PolarAdapter.api_base_url_check(url)


def test_debug_allows_any_url(settings):
    settings.DEBUG = True
    settings.PROCESSOR_API_HOSTS = []
    PolarAdapter.api_base_url_check("http://localhost:8000/v1")


# --- the API, the page's form and the admin all use the one check ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
        "https://api.polar.sh.evil.com/v1",
        "https://api.polar.sh@127.0.0.1/v1",
        "http://10.0.0.5/v1",
    ],
)
def test_the_api_answers_400_and_saves_nothing(api_client, url):
    response = api_client.post(
        "/api/v1/integrations/",
        {"processor": "polar", "api_token": "t", "webhook_secret": "s", "api_base_url": url},
        format="json",
    )
    assert response.status_code == 400
    assert "api_base_url" in response.json()
    assert not ProcessorConnection.objects.exists()


@pytest.mark.django_db
def test_the_api_accepts_a_host_of_processor_api_hosts(api_client):
    response = api_client.post(
        "/api/v1/integrations/",
        {"processor": "polar", "api_token": "t", "webhook_secret": "s", "api_base_url": "http://127.0.0.1:8123/v1"},
        format="json",
    )
    assert response.status_code == 201
    assert ProcessorConnection.objects.get().api_base_url == "http://127.0.0.1:8123/v1"


@pytest.mark.django_db
def test_the_page_form_refuses_the_url_and_saves_nothing(owner_client):
    response = owner_client.post(
        "/app/integrations/polar/connect/",
        {"api_token": POLAR_TOKEN, "webhook_secret": POLAR_SECRET, "api_base_url": "http://169.254.169.254/"},
    )
    assert response.status_code == 400
    assert "Not allowed: use https://api.polar.sh/v1 or https://sandbox-api.polar.sh/v1." in response.content.decode()
    assert not ProcessorConnection.objects.exists()


@pytest.mark.django_db
def test_the_page_form_refuses_the_url_of_an_existing_connection(owner_client, workspace):
    connection = ProcessorConnectionFactory(workspace=workspace)
    response = owner_client.post(
        "/app/integrations/polar/connect/",
        {"api_token": "", "webhook_secret": "", "api_base_url": "http://metadata.google.internal/"},
    )
    assert response.status_code == 400
    connection.refresh_from_db()
    assert connection.api_base_url == "https://api.polar.sh/v1"


@pytest.mark.django_db
def test_the_admin_refuses_the_url(admin_client):
    connection = ProcessorConnectionFactory()
    response = admin_client.post(
        f"/admin/integrations/processorconnection/{connection.pk}/change/",
        {"status": "active", "api_base_url": "http://[::ffff:127.0.0.1]/", "options": "{}", "backfill_days": 90},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Not allowed: use https://api.polar.sh/v1" in response.content.decode()
    connection.refresh_from_db()
    assert connection.api_base_url == "https://api.polar.sh/v1"

    response = admin_client.post(
        f"/admin/integrations/processorconnection/{connection.pk}/change/",
        {"status": "active", "api_base_url": "https://sandbox-api.polar.sh/v1", "options": "{}", "backfill_days": 90},
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.api_base_url == "https://sandbox-api.polar.sh/v1"


# --- a URL stored before (in DEBUG, or before the rule) is refused when called -----------------------


@pytest.mark.django_db
def test_a_stored_url_outside_the_allow_list_is_never_called(settings, owner_client, workspace):
    with FakePolar(token=POLAR_TOKEN) as fake:
        connection = ProcessorConnectionFactory(workspace=workspace, api_base_url=fake.base_url)
        settings.PROCESSOR_API_HOSTS = []  # as in production: the fake's 127.0.0.1 is not listed
        run = sync_run_queue(connection=connection)
        sync_run_execute(sync_run_id=run.pk, adapter=get_adapter(connection))
        html = owner_client.post("/app/integrations/polar/test/", follow=True).content.decode()
        assert fake.requests == []

    run.refresh_from_db()
    assert (run.status, run.last_error) == ("failed", Failure.URL_NOT_ALLOWED)
    assert escape(Failure.URL_NOT_ALLOWED) in html
    assert SyncRun.objects.count() == 1
