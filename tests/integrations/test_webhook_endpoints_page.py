"""The Webhooks page (/app/webhooks/): add an endpoint and see its secret once, send a test event, rotate,
disable, enable, delete, and the recent deliveries with their attempts and a resend; viewers only look;
another workspace's endpoints and deliveries are a 404."""

import re

import pytest

from integrations.models import Delivery, DeliveryAttempt, DeliveryStatus, EndpointStatus, WebhookEndpoint
from integrations.services import outbound_webhooks as outbound
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

PAGE = "/app/webhooks/"


def html(response) -> str:
    return response.content.decode()


def test_empty_state(owner_client):
    page = html(owner_client.get(PAGE))
    assert "No endpoints yet" in page and "No deliveries yet" in page and "Add endpoint" in page


def test_add_an_endpoint_shows_its_secret_once(owner_client, workspace):
    response = owner_client.post(PAGE, {"url": "https://93.184.216.34/hooks", "events": ["sale.created"]})
    assert response.status_code == 200
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", html(response))
    endpoint = WebhookEndpoint.objects.get(workspace=workspace)
    assert endpoint.secret == secret and endpoint.events == ["sale.created"]
    assert "it will not be shown again" in html(response)
    assert secret not in html(owner_client.get(PAGE))  # never again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "https://127.0.0.1/hooks", "events": ["sale.created"]}, "internal address"),
        ({"url": "http://93.184.216.34/hooks", "events": ["sale.created"]}, "Only https URLs"),
        ({"url": "https://93.184.216.34/hooks"}, "Choose at least one event."),
        ({"url": "not a url", "events": ["sale.created"]}, "Enter a valid URL."),
        ({"url": "https://93.184.216.34/", "events": ["sale.nope"]}, "Select a valid choice"),
    ],
)
def test_bad_input_says_what_is_wrong_and_stores_nothing(owner_client, data, message):
    response = owner_client.post(PAGE, data)
    assert response.status_code == 400 and message in html(response)
    assert not WebhookEndpoint.objects.exists()


def test_send_a_test_event_then_resend_its_delivery(owner_client, workspace, broker, committed):
    endpoint, _ = outbound.endpoint_create(workspace=workspace, url="https://93.184.216.34/h", events=["sale.created"])
    with committed():
        response = owner_client.post(f"{PAGE}{endpoint.public_id}/test/")
    assert response.status_code == 302
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event.type == "webhook.test"
    assert broker.sent == [("integrations.webhook_deliveries_send", [[delivery.pk]])]

    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=1)
    DeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=delivery.created_at, status_code=500, duration_ms=87, excerpt="<b>down</b>"
    )
    page = html(owner_client.get(PAGE))
    assert "webhook.test" in page and "1 attempt<" in page and "Resend" in page
    assert "HTTP 500 in 87 ms" in page and "&lt;b&gt;down&lt;/b&gt;" in page  # the answer's start, escaped
    with committed():
        owner_client.post(f"{PAGE}deliveries/{delivery.pk}/resend/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and len(broker.sent) == 2


def test_rotate_disable_enable_delete(owner_client, workspace):
    endpoint, first = outbound.endpoint_create(
        workspace=workspace, url="https://93.184.216.34/h", events=["sale.created"]
    )
    rotated = html(owner_client.post(f"{PAGE}{endpoint.public_id}/rotate/"))
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated and first not in rotated and "keeps signing beside it for 24 hours" in rotated
    owner_client.post(f"{PAGE}{endpoint.public_id}/disable/")
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED and "Disabled by hand." in html(owner_client.get(PAGE))
    owner_client.post(f"{PAGE}{endpoint.public_id}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ACTIVE
    owner_client.post(f"{PAGE}{endpoint.public_id}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_viewers_look_but_change_nothing(client, workspace):
    endpoint, _ = outbound.endpoint_create(workspace=workspace, url="https://93.184.216.34/h", events=["sale.created"])
    client.force_login(MembershipFactory(workspace=workspace, role="viewer").user)
    page = html(client.get(PAGE))
    assert "93.184.216.34" in page and "Add endpoint" not in page and "Rotate secret" not in page
    assert client.post(PAGE, {"url": "https://93.184.216.34/x", "events": ["sale.created"]}).status_code == 403
    assert client.post(f"{PAGE}{endpoint.public_id}/delete/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_workspaces_endpoint_and_delivery_are_not_found(owner_client):
    other, _ = outbound.endpoint_create(
        workspace=WorkspaceFactory(), url="https://93.184.216.34/h", events=["sale.created"]
    )
    outbound.endpoint_test_send(endpoint=other)
    delivery = Delivery.objects.get()
    for action in ("test", "rotate", "disable", "delete"):
        assert owner_client.post(f"{PAGE}{other.public_id}/{action}/").status_code == 404
    assert owner_client.post(f"{PAGE}deliveries/{delivery.pk}/resend/").status_code == 404
    assert "93.184.216.34" not in html(owner_client.get(PAGE))
    other.refresh_from_db()
    assert other.status == EndpointStatus.ACTIVE


def test_an_unknown_action_is_not_found(owner_client, workspace):
    endpoint, _ = outbound.endpoint_create(workspace=workspace, url="https://93.184.216.34/h", events=["sale.created"])
    assert owner_client.post(f"{PAGE}{endpoint.public_id}/explode/").status_code == 404
