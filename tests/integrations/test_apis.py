import datetime as dt

import pytest

from integrations.models import Order, ProcessorConnection, Subscription, SyncRun, WebhookEvent
from integrations.processors.polar import mapping
from integrations.services.ledger import change_apply
from tests.factories.integrations import POLAR_SECRET, POLAR_TOKEN, ProcessorConnectionFactory
from tests.factories.workspaces import WorkspaceFactory
from tests.integrations.polar import payload

pytestmark = pytest.mark.django_db


def apply(connection, body):
    (change,) = mapping.event_from(body).changes
    return change_apply(connection=connection, change=change)


def test_create_connection_returns_webhook_url_and_never_the_secrets(
    api_client, workspace, settings, django_capture_on_commit_callbacks
):
    settings.TRACKREV_PUBLIC_URL = "https://trackrev.example"
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            "/api/v1/integrations/",
            {"processor": "polar", "api_token": POLAR_TOKEN, "webhook_secret": POLAR_SECRET},
            format="json",
        )

    assert response.status_code == 201
    body = response.json()
    connection = ProcessorConnection.objects.get()
    assert body == {
        "id": connection.pk,
        "processor": "polar",
        "webhook_url": f"https://trackrev.example/webhooks/polar/{workspace.public_id}",
        "status": "active",
    }
    assert connection.api_base_url == "https://api.polar.sh/v1"
    assert SyncRun.objects.get().kind == "backfill"  # history is backfilled in the background
    assert len(callbacks) == 1

    listed = api_client.get("/api/v1/integrations/").json()
    detail = api_client.get(f"/api/v1/integrations/{connection.pk}/").json()
    for text in (str(body), str(listed), str(detail)):
        assert POLAR_TOKEN not in text
        assert POLAR_SECRET not in text
    assert detail["last_sync"]["status"] == "queued"
    assert listed["count"] == 1


def test_create_accepts_sandbox_url_and_options(api_client):
    response = api_client.post(
        "/api/v1/integrations/",
        {
            "processor": "polar",
            "api_token": "t",
            "webhook_secret": "s",
            "api_base_url": "https://sandbox-api.polar.sh/v1",
            "options": {"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"},
        },
        format="json",
    )
    assert response.status_code == 201
    connection = ProcessorConnection.objects.get()
    assert connection.api_base_url == "https://sandbox-api.polar.sh/v1"
    assert connection.options == {"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"store_id": "1"}, "Unknown option 'store_id': organization_id."),
        ({"organization_id": "acme"}, "organization_id: A Polar organization id is a UUID"),
        ({"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737\n"}, "organization_id: A Polar organization"),
        ({"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"}, None),
        ({"organization_id": ""}, None),  # blank: not set
    ],
)
def test_options_are_those_the_processors_adapter_declares(api_client, options, message):
    body = {"processor": "polar", "api_token": "t", "webhook_secret": "s", "options": options}
    response = api_client.post("/api/v1/integrations/", body, format="json")

    if message is None:
        assert response.status_code == 201
        assert ProcessorConnection.objects.get().options == {k: v for k, v in options.items() if v}
    else:
        assert response.status_code == 400 and response.json()["options"][0].startswith(message)
        assert not ProcessorConnection.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"processor": "polar", "webhook_secret": "s"}, "api_token"),
        ({"processor": "square", "api_token": "t", "webhook_secret": "s"}, "processor"),
        ({"processor": "polar", "api_token": "t", "webhook_secret": "s", "api_base_url": "nope"}, "api_base_url"),
    ],
)
def test_bad_connection_input_is_400_and_writes_nothing(api_client, body, field):
    response = api_client.post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ProcessorConnection.objects.exists()


def test_second_connection_is_409_and_an_unsupported_processor_400(api_client, workspace):
    ProcessorConnectionFactory(workspace=workspace)
    again = api_client.post(
        "/api/v1/integrations/", {"processor": "polar", "api_token": "t", "webhook_secret": "s"}, format="json"
    )
    refused = api_client.post(
        "/api/v1/integrations/", {"processor": "square", "api_token": "t", "webhook_secret": "s"}, format="json"
    )
    assert (again.status_code, refused.status_code) == (409, 400)
    assert "already has" in again.json()["detail"]
    assert "processor" in refused.json()  # only the processors with an adapter are choices (the schema's enum)
    assert ProcessorConnection.objects.count() == 1


@pytest.mark.parametrize("field", ["api_token", "webhook_secret"])
@pytest.mark.parametrize("value", ["", "   ", 123, ["t"]])
def test_blank_or_non_string_secrets_are_400(api_client, field, value):
    body = {"processor": "polar", "api_token": "t", "webhook_secret": "s", field: value}
    response = api_client.post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ProcessorConnection.objects.exists()


def test_detail_shows_health_and_other_workspaces_are_404(api_client, workspace):
    connection = ProcessorConnectionFactory(workspace=workspace)
    other = ProcessorConnectionFactory(workspace=WorkspaceFactory())
    WebhookEvent.objects.create(
        workspace=workspace, connection=connection, processor="polar", delivery_id="d1", body="{}", status="failed"
    )
    SyncRun.objects.create(
        workspace=workspace,
        connection=connection,
        status="succeeded",
        fetched=7,
        created=2,
        updated=1,
        missed_by_webhook=2,
        finished_at=dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC),
    )

    detail = api_client.get(f"/api/v1/integrations/{connection.pk}/").json()
    assert detail["failed_deliveries"] == 1
    assert detail["last_webhook_at"] is not None
    assert detail["last_sync_at"] == "2026-11-27T10:00:00Z"
    stats = {key: detail["last_sync"][key] for key in ("fetched", "created", "updated", "missed_by_webhook", "errors")}
    assert stats == {"fetched": 7, "created": 2, "updated": 1, "missed_by_webhook": 2, "errors": 0}
    assert api_client.get(f"/api/v1/integrations/{other.pk}/").status_code == 404
    assert api_client.post(f"/api/v1/integrations/{other.pk}/sync/").status_code == 404


def test_sync_queues_a_run(api_client, workspace, django_capture_on_commit_callbacks):
    connection = ProcessorConnectionFactory(workspace=workspace)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(f"/api/v1/integrations/{connection.pk}/sync/")
    run = SyncRun.objects.get()
    assert response.status_code == 202
    assert response.json() == {"sync_run": run.pk, "status": "queued"}
    assert len(callbacks) == 1


def test_requires_an_api_key(client):
    assert client.get("/api/v1/integrations/").status_code == 401
    assert client.get("/api/v1/orders/").status_code == 401


def test_orders_list_contract(api_client, workspace):
    connection = ProcessorConnectionFactory(workspace=workspace)
    apply(connection, payload("order_created_purchase"))
    apply(ProcessorConnectionFactory(), payload("order_created_purchase"))  # another workspace's copy

    response = api_client.get("/api/v1/orders/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    order = Order.objects.get(workspace=workspace)
    assert body["results"][0] == {
        "id": order.pk,
        "processor": "polar",
        "external_id": "0b6f3c2e-7a41-4d8e-9f1b-2c5a8e9d4f10",
        "kind": "one_time",
        "status": "paid",
        "currency": "USD",
        "amount": "44.10",
        "amount_usd": "44.10",
        "refunded": "0.00",
        "placed_at": "2026-09-03T14:22:05.118402Z",
        "paid_at": "2026-09-03T14:22:05.118402Z",
        "visitor_id": "v_01J8Z3K2M4",
        "matched_by": "metadata",
        "subscription_id": None,
        # Added by attribution's subclass (the route lives in attribution.api_urls); the consumer has not run.
        "credits": {"last_touch": [], "first_touch": [], "linear": [], "position_based": [], "time_decay": []},
        "partner": None,  # and the partner credited, when the affiliate program refers the order
    }
    assert api_client.get("/api/v1/orders/?start=2026-09-04").json()["count"] == 0
    assert api_client.get("/api/v1/orders/?start=2026-09-03&end=2026-09-03&processor=polar").json()["count"] == 1
    assert api_client.get("/api/v1/orders/?processor=stripe").json()["count"] == 0
    assert api_client.get("/api/v1/orders/?start=yesterday").status_code == 400
    assert api_client.get("/api/v1/orders/?start=2026-09-05&end=2026-09-01").status_code == 400


def test_subscriptions_list_contract(api_client, workspace):
    connection = ProcessorConnectionFactory(workspace=workspace)
    apply(connection, payload("subscription_updated_revoked"))

    body = api_client.get("/api/v1/subscriptions/").json()
    subscription = Subscription.objects.get()
    assert body["results"] == [
        {
            "id": subscription.pk,
            "processor": "polar",
            "external_id": "3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f",
            "status": "canceled",
            "current_period_end": "2026-11-03T14:25:09Z",
            "cancel_at_period_end": True,
            "visitor_id": "v_01J8Z3K2M4",  # its customer's
            "updated_at": "2026-11-03T14:25:12.120554Z",
        }
    ]
    assert api_client.get("/api/v1/subscriptions/?status=active").json()["count"] == 0


def anonymous(body: dict) -> dict:
    body["data"]["customer"]["metadata"] = {}  # the customer names no visitor
    return body


def listed_visitors(api_client) -> list[str]:
    return [row["visitor_id"] for row in api_client.get("/api/v1/subscriptions/").json()["results"]]


def test_a_subscription_shows_the_visitor_bound_through_its_first_order_else_its_own_metadata(
    api_client, admin_client, workspace
):
    connection = ProcessorConnectionFactory(workspace=workspace)
    apply(connection, anonymous(payload("subscription_updated_revoked", metadata={})))
    assert listed_visitors(api_client) == [""]

    own = {"trackrev_visitor_id": "v_signup"}
    apply(
        connection, anonymous(payload("subscription_updated_revoked", metadata=own, modified_at="2026-11-04T00:00:00Z"))
    )
    assert listed_visitors(api_client) == ["v_signup"]

    subscription = Subscription.objects.get()
    first = {"id": "first", "billing_reason": "subscription_create", "subscription_id": subscription.external_id}
    apply(
        connection,
        anonymous(payload("order_created_purchase", **first, metadata={"trackrev_visitor_id": "v_checkout"})),
    )
    assert listed_visitors(api_client) == ["v_checkout"]  # what its renewals follow, as the ledger matches them
    assert "v_checkout" in admin_client.get("/admin/integrations/subscription/").content.decode()
    assert (
        "v_checkout" in admin_client.get(f"/admin/integrations/subscription/{subscription.pk}/change/").content.decode()
    )


@pytest.mark.django_db
def test_the_admin_refuses_options_the_adapter_does_not_declare(admin_client):
    connection = ProcessorConnectionFactory()
    url = f"/admin/integrations/processorconnection/{connection.pk}/change/"
    form = {"status": "active", "api_base_url": "https://api.polar.sh/v1", "backfill_days": 90}

    refused = admin_client.post(url, {**form, "options": '{"store_id": "1"}'})
    assert refused.status_code == 200 and "Unknown option &#x27;store_id&#x27;" in refused.content.decode()
    assert (
        admin_client.post(
            url, {**form, "options": '{"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"}'}
        ).status_code
        == 302
    )
    connection.refresh_from_db()
    assert connection.options == {"organization_id": "1dbfc517-0bbf-4301-9ba8-555ca42b9737"}
