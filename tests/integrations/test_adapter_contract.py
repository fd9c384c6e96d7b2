"""The contract every processor adapter passes, each by its own processor's rules: a kit per processor
(tests/integrations/kits/<key>.py) brings signing, headers, tolerance, payloads and a fake list API."""

import datetime as dt
import json

import pytest
import time_machine
from django.template.loader import get_template

from integrations.models import Order, WebhookEvent
from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.demo import DemoApi, DemoRefund, DemoSale
from integrations.processors.errors import Failure, ProcessorRejected, SignatureInvalid, SignatureStale
from integrations.processors.options import ConnectionOption
from integrations.processors.registry import ADAPTERS
from integrations.processors.types import ConnectionCredentials, OrderChange, ParsedEvent, SubscriptionChange
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.kits import kit
from trackrev.common.emails import email_digest

NOW = dt.datetime(2026, 9, 3, 14, 22, 6, tzinfo=dt.UTC)
MARGIN = dt.timedelta(seconds=2)


def test_every_registered_adapter_has_a_contract_kit():
    for key in ADAPTERS:
        assert kit(key).signature_headers


@pytest.mark.parametrize("key", sorted(ADAPTERS))
def test_every_adapter_declares_what_the_shared_code_reads(key):
    """What pages, the API and reconcile take from the adapter, not from a processor's name."""
    adapter = ADAPTERS[key]
    assert adapter.key == key and adapter.display_name
    assert get_template(adapter.setup_template)
    assert adapter.requests_per_minute > 0
    assert all(isinstance(repair, Repair) for repair in adapter.repairs)
    assert all(isinstance(option, ConnectionOption) for option in adapter.connection_options)


@pytest.fixture(params=sorted(ADAPTERS))
def case(request):
    kit_ = kit(request.param)
    creds = ConnectionCredentials(
        api_token="t", webhook_secret=kit_.secret, api_base_url="http://127.0.0.1:9", options={}
    )
    adapter = ADAPTERS[request.param](creds, clock=lambda: NOW)
    assert isinstance(adapter, ProcessorAdapter)
    return adapter, kit_, kit_.encode(kit_.order_event)


def verify(adapter, body, headers):
    with time_machine.travel(NOW, tick=False):
        adapter.verify_signature(body=body, headers=headers)


def test_good_signature_verifies_and_parses(case):
    adapter, kit, body = case
    headers = kit.sign(body, kit.secret, at=NOW)
    verify(adapter, body, headers)

    payload = json.loads(body)
    assert adapter.delivery_id(body=body, headers=headers, payload=payload) == adapter.delivery_id(
        body=body, headers=dict(headers), payload=json.loads(body)
    )
    parsed = adapter.parse_event(body=body, headers=headers)
    assert isinstance(parsed, ParsedEvent)
    (change,) = (change for change in parsed.changes if isinstance(change, OrderChange))
    assert change.order.external_id == kit.expected_order_external_id
    assert change.order.amount_minor == kit.expected_amount_minor
    assert adapter.handles(adapter.event_type(payload=kit.order_event))


def test_tampered_body_is_rejected(case):
    adapter, kit, body = case
    headers = kit.sign(body, kit.secret, at=NOW)
    with pytest.raises(SignatureInvalid):
        verify(adapter, body.replace(str(kit.expected_amount_minor).encode(), b"1"), headers)


def test_wrong_secret_is_rejected(case):
    adapter, kit, body = case
    with pytest.raises(SignatureInvalid):
        verify(adapter, body, kit.sign(body, kit.secret + "x", at=NOW))


def test_a_delivery_missing_any_signature_header_is_rejected(case):
    adapter, kit, body = case
    for header in kit.signature_headers:
        headers = kit.sign(body, kit.secret, at=NOW)
        del headers[header]
        with pytest.raises(SignatureInvalid):
            verify(adapter, body, headers)


@pytest.mark.parametrize("sign", [-1, 1])
def test_a_signature_outside_its_schemes_window_is_stale_and_inside_it_verifies(case, sign):
    """Each scheme's own window (Standard Webhooks ±5 min, Stripe 300 s, Paddle 5 s); a scheme that signs
    no time has none: an old signature still verifies, and the inbox's dedup absorbs the replay."""
    adapter, kit, body = case
    if kit.tolerance is None:
        verify(adapter, body, kit.sign(body, kit.secret, at=NOW + sign * dt.timedelta(days=30)))
        return
    with pytest.raises(SignatureStale):
        verify(adapter, body, kit.sign(body, kit.secret, at=NOW + sign * (kit.tolerance + MARGIN)))
    verify(adapter, body, kit.sign(body, kit.secret, at=NOW + sign * (kit.tolerance - MARGIN)))


def test_unknown_event_type_is_not_handled(case):
    adapter, kit, _ = case
    assert not adapter.handles(kit.unused_event_type)


def api_adapter(case, base_url: str, token: str, sleeps: list | None = None) -> ProcessorAdapter:
    adapter, kit, _ = case
    creds = ConnectionCredentials(api_token=token, webhook_secret=kit.secret, api_base_url=base_url, options={})
    api = type(adapter)(creds, clock=lambda: NOW)
    api.http = api.http_client(sleep=(sleeps if sleeps is not None else []).append)  # its own headers, no waits
    return api


def delivered(adapter, kit, data: dict, as_event) -> ParsedEvent:
    body = kit.encode(as_event(data))
    return adapter.parse_event(body=body, headers=kit.sign(body, kit.secret, at=NOW))


@pytest.mark.parametrize("throttle", [False, True], ids=["", "one 429"])
def test_list_changes_pages_through_everything_and_matches_the_webhook_mapping(case, throttle):
    """Webhook and poll share the mapping: the same object gives the same normalized order. A 429 is
    waited out (its Retry-After) and the page asked again."""
    _, kit, _ = case
    since = NOW - dt.timedelta(days=2)
    sleeps = []
    with kit.fake_api("tok", 230, since, throttle=throttle) as (base_url, served):
        adapter = api_adapter(case, base_url, "tok", sleeps)
        pages = list(adapter.list_changes(since=since))
        listed = {c.order.external_id: c.order for p in pages for c in p.changes if isinstance(c, OrderChange)}
        sample = kit.order_id(served[7])
        fetched = adapter.fetch_order(external_id=sample)
        adapter.check_credentials()

    assert len(listed) == 230
    assert len([page for page in pages if page.changes]) > 1
    assert all(page.pages >= page.page or not page.changes for page in pages)
    assert bool(sleeps) == throttle
    assert fetched == listed[sample]
    (change,) = (c for c in delivered(adapter, kit, served[7], kit.as_event).changes if isinstance(c, OrderChange))
    assert change.order == listed[sample]


def test_fetch_subscription_matches_the_listing_and_the_webhook_mapping(case):
    """The repair fetch of reconcile (subscriptions due to end) reads the same state as the poll and the
    webhook."""
    _, kit, _ = case
    since = NOW - dt.timedelta(days=2)
    with kit.subscription_api("tok", since + dt.timedelta(hours=1)) as (base_url, served):
        adapter = api_adapter(case, base_url, "tok")
        listed = {
            c.subscription.external_id: c.subscription
            for page in adapter.list_changes(since=since)
            for c in page.changes
            if isinstance(c, SubscriptionChange)
        }
        fetched = adapter.fetch_subscription(external_id=served["id"])

    assert fetched == listed[served["id"]]
    assert fetched.cancel_at_period_end
    parsed = delivered(adapter, kit, served, kit.as_subscription_event)
    (change,) = (c for c in parsed.changes if isinstance(c, SubscriptionChange))
    assert change.subscription == fetched


@pytest.mark.django_db
def test_an_order_with_a_discount_exposes_its_codes_through_webhook_and_poll_alike(case):
    """A partner who owns the code is referred the order however it reached the ledger. A delivery may carry
    less than the poll (the discount's id, not its code): what it carries is among the poll's codes, and it
    never takes the others away."""
    adapter, kit, body = case
    if kit.discount_api is None:  # its order payloads name no code (only a total): none is made up
        parsed = adapter.parse_event(body=body, headers=kit.sign(body, kit.secret, at=NOW))
        assert [c.order.discount_codes for c in parsed.changes if isinstance(c, OrderChange)] == [()]
        return
    since = NOW - dt.timedelta(days=2)
    with kit.discount_api("tok", since) as (base_url, served):
        adapter = api_adapter(case, base_url, "tok")
        (listed,) = (
            c.order for p in adapter.list_changes(since=since) for c in p.changes if isinstance(c, OrderChange)
        )
        fetched = adapter.fetch_order(external_id=kit.order_id(served))
        (change,) = (c for c in delivered(adapter, kit, served, kit.as_event).changes if isinstance(c, OrderChange))

    assert listed.discount_codes == fetched.discount_codes == kit.discount_codes
    assert change.order.discount_codes and set(change.order.discount_codes) <= set(kit.discount_codes)
    connection = ProcessorConnectionFactory(processor=adapter.key)
    for order in (change.order, listed, change.order):
        change_apply(connection=connection, change=OrderChange(order))
    assert set(Order.objects.get().discount_codes) == set(kit.discount_codes)


def test_a_bad_token_is_rejected_with_its_status(case):
    """Told to the user as a rejected token, whatever status the processor says it with."""
    _, kit, _ = case
    with kit.fake_api("tok", 0, NOW) as (base_url, _), pytest.raises(ProcessorRejected) as error:
        api_adapter(case, base_url, "wrong").check_credentials()
    assert (error.value.status_code, error.value.failure) == (kit.bad_token_status, Failure.TOKEN_REJECTED)


@pytest.mark.django_db
def test_the_demo_shops_sales_come_through_the_adapters_own_parser_into_the_ledger(case):
    """`make run`'s demo: what a processor's package renders for a sale maps, through its real parser, to
    the rows a real account would have: a subscription with its first payment and a renewal, matched to
    the signup visitor, a refund of the first payment; a one-time sale with no visitor id, found by email."""
    adapter, _, _ = case
    connection = ProcessorConnectionFactory(processor=adapter.key)
    month = dt.timedelta(days=30)
    subscribed = DemoSale(
        ref="7",
        currency="EUR",
        amount_minor=2900,
        at=NOW,
        email="ana@customers.test",
        visitor_ref="v_demo",
        period=month,
        renewals=(NOW + month,),
        refund=DemoRefund(amount_minor=1450, at=NOW + dt.timedelta(days=1)),
    )
    bought = DemoSale(
        ref="8", currency="JPY", amount_minor=4900, at=NOW, email="ken@customers.test", visitor_ref="", period=None
    )
    for sale in (subscribed, bought):
        for delivery in adapter.demo_deliveries(sale):
            assert adapter.handles(adapter.event_type(payload=json.loads(delivery.body)))
            adapter.http = DemoApi(delivery.api)
            for change in adapter.parse_event(body=delivery.body, headers=delivery.headers).changes:
                change_apply(connection=connection, change=change)

    first, renewal = Order.objects.filter(currency="EUR").order_by("placed_at")
    single = Order.objects.get(currency="JPY")
    assert [(o.kind, o.currency, o.amount_minor) for o in (first, renewal)] == [
        ("subscription_create", "EUR", 2900),
        ("renewal", "EUR", 2900),
    ]
    assert {(o.visitor_id, o.subscription.status) for o in (first, renewal)} == {("v_demo", "active")}
    assert (first.refunded_minor, first.status, renewal.refunded_minor) == (1450, "partially_refunded", 0)
    assert (single.kind, single.currency, single.amount_minor, single.visitor_id) == ("one_time", "JPY", 4900, "")
    assert single.customer_email_digest == email_digest("ken@customers.test")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_webhook_endpoint_stores_a_signed_delivery_once_and_refuses_a_forged_one(case, client, broker):
    """CONTRACTS.md §4 for every processor, through the real endpoint, signed by the processor's own scheme."""
    adapter, kit, body = case
    connection = ProcessorConnectionFactory(processor=adapter.key, webhook_secret=kit.secret)
    url = f"/webhooks/{adapter.key}/{connection.workspace.public_id}"

    def post(headers: dict) -> int:
        return client.generic("POST", url, body, content_type="application/json", headers=headers).status_code

    signed = kit.sign(body, kit.secret, at=dt.datetime.now(tz=dt.UTC))
    assert [post(signed), post(signed)] == [202, 202]  # a retry of the same delivery
    assert post(kit.sign(body, kit.secret + "x", at=dt.datetime.now(tz=dt.UTC))) == 401
    assert post({name: value for name, value in signed.items() if name not in kit.signature_headers}) == 401
    assert WebhookEvent.objects.filter(connection=connection).count() == 1
