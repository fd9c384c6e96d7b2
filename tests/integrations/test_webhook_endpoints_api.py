"""`/api/v1/webhook-endpoints/` (CONTRACTS §5) and the addresses an endpoint may name (issue 15 item 2):
outside DEBUG only https to a public address, in any spelling, and never one that a redirect or a
changing DNS answer leads to."""

import pytest
from django.db import connection

from integrations.models import Delivery, DeliveryStatus, WebhookEndpoint
from integrations.services import outbound_webhooks as outbound
from tests.factories.workspaces import WorkspaceFactory
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"
PUBLIC = "93.184.216.34"


@pytest.fixture
def public_name(resolving):
    resolving("hooks.example.com", PUBLIC)
    return "https://hooks.example.com/trackrev"


def create(api_client, url, events=("sale.created",)):
    return api_client.post(URL, {"url": url, "events": list(events)}, format="json")


def test_create_answers_the_secret_once(api_client, public_name):
    answer = create(api_client, public_name, ["sale.created", "payout.paid", "sale.created"])
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "url", "events", "status", "disabled_reason", "created_at", "secret"}
    assert body["id"].startswith("whe_") and body["secret"].startswith("whsec_")
    assert body["events"] == ["sale.created", "payout.paid"]

    listed = api_client.get(URL).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    one = api_client.get(f"{URL}{body['id']}/").json()
    assert one["url"] == public_name and "secret" not in one
    assert body["secret"] not in api_client.get(URL).content.decode()
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT secret FROM integrations_webhookendpoint")
        [(stored,)] = cursor.fetchall()
    assert body["secret"] not in stored and body["secret"][6:] not in stored


def test_rotate_answers_a_new_secret_and_delete_removes(api_client, public_name):
    created = create(api_client, public_name).json()
    rotated = api_client.post(f"{URL}{created['id']}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert api_client.delete(f"{URL}{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_another_workspaces_endpoint_is_not_found(api_client, public_name):
    other = WorkspaceFactory()
    endpoint, _ = outbound.endpoint_create(workspace=other, url=public_name, events=["sale.created"])
    for answer in (
        api_client.get(f"{URL}{endpoint.public_id}/"),
        api_client.delete(f"{URL}{endpoint.public_id}/"),
        api_client.post(f"{URL}{endpoint.public_id}/rotate-secret/"),
    ):
        assert answer.status_code == 404
    assert api_client.get(URL).json()["count"] == 0
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_without_a_key_401(client):
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/", "events": []}, "events"),
        ({"url": "https://hooks.example.com/", "events": ["sale.deleted"]}, "events"),
        ({"url": "https://hooks.example.com/", "events": "sale.created"}, "events"),
        ({"url": "https://hooks.example.com/"}, "events"),
        ({"url": 12, "events": ["sale.created"]}, "url"),
        ({"url": "not a url", "events": ["sale.created"]}, "url"),
        ({"url": "https://hooks.example.com/" + "a" * 1000, "events": ["sale.created"]}, "url"),
        ({"url": "ftp://hooks.example.com/", "events": ["sale.created"]}, "url"),
        ({"events": ["sale.created"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, public_name, body, field):
    answer = api_client.post(URL, body, format="json")
    assert answer.status_code == 400 and field in answer.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/trackrev",  # https only outside DEBUG
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://127.1/hook",  # short form of 127.0.0.1
        "https://2130706433/hook",  # 127.0.0.1 as one decimal number
        "https://0x7f000001/hook",  # … as hex
        "https://0177.0.0.1/hook",  # … with an octal first part
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[fd00:ec2::254]/hook",  # a cloud's IPv6 metadata
        "https://100.64.0.1/hook",  # CGNAT
        "https://0.0.0.0/hook",
        "https://internal.example.com/hook",  # a public-looking name with a private address
    ],
)
def test_internal_addresses_are_refused_in_every_spelling(api_client, resolving, url):
    resolving("internal.example.com", "10.20.30.40")
    answer = create(api_client, url)
    assert answer.status_code == 400 and "url" in answer.json(), answer.content
    assert not WebhookEndpoint.objects.exists()


def test_a_dns_answer_that_changes_after_the_check_is_refused_at_connect_time(receiver, resolving, settings):
    """The name resolved to a public address when the endpoint was added and when the delivery was checked,
    then to loopback for the connection itself: nothing reaches the internal address."""
    settings.DEBUG, settings.OUTBOUND_ALLOWED_NETWORKS = True, []  # http for the local receiver; no exception
    inside = receiver()
    resolving("rebind.example.com", PUBLIC, PUBLIC, "127.0.0.1")
    workspace = WorkspaceFactory()
    url = f"http://rebind.example.com:{inside.port}/hook"
    endpoint, _ = outbound.endpoint_create(workspace=workspace, url=url, events=["sale.created"])
    outbound.endpoint_test_send(endpoint=endpoint)
    delivery = Delivery.objects.get()
    outbound.delivery_send(delivery_id=delivery.pk)
    attempt = delivery.attempt_rows.get()
    assert attempt.status_code is None and "internal address (127.0.0.1)" in attempt.error
    assert inside.requests == []


def test_a_redirect_is_not_followed(receiver, settings):
    settings.DEBUG, settings.OUTBOUND_ALLOWED_NETWORKS = True, ["127.0.0.1/32"]
    target = receiver()
    moved = receiver(status=307, headers={"Location": target.url})
    endpoint, _ = outbound.endpoint_create(workspace=WorkspaceFactory(), url=moved.url, events=["sale.created"])
    outbound.endpoint_test_send(endpoint=endpoint)
    delivery = Delivery.objects.get()
    outbound.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempt_rows.get().status_code == 307
    assert target.requests == []


def test_a_workspace_has_at_most_twenty_endpoints(api_client, public_name, workspace):
    for _ in range(outbound.ENDPOINTS_MAX):
        outbound.endpoint_create(workspace=workspace, url=public_name, events=["sale.created"])
    answer = create(api_client, public_name)
    assert answer.status_code == 400 and "at most 20" in answer.json()["detail"]


def test_keys_of_another_workspace_list_only_their_own(client, public_name):
    first, second = WorkspaceFactory(), WorkspaceFactory()
    outbound.endpoint_create(workspace=first, url=public_name, events=["sale.created"])
    key = api_key_create(workspace=second, name="other").raw_key
    answer = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.json()["count"] == 0


def test_rotate_secret_answers_only_post(api_client, public_name):
    created = create(api_client, public_name).json()
    for method in (api_client.get, api_client.delete):
        assert method(f"{URL}{created['id']}/rotate-secret/").status_code == 405
    assert WebhookEndpoint.objects.count() == 1
