"""The contract every processor adapter passes. Add a kit per processor to KITS when adding an adapter."""

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.template.loader import get_template

from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import ProcessorRejected, SignatureInvalid, SignatureStale
from integrations.processors.http import HttpClient
from integrations.processors.options import ConnectionOption
from integrations.processors.registry import ADAPTERS
from integrations.processors.types import ConnectionCredentials, OrderChange, ParsedEvent, SubscriptionChange
from tests.integrations import polar
from tests.integrations.fake_polar import FakePolar

NOW = dt.datetime(2026, 9, 3, 14, 22, 6, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Kit:
    secret: str
    order_event: dict  # a delivery that carries one order
    sign: Callable[..., dict]  # (body, secret, at=…) → the headers the processor sends, by lower-case name
    expected_order_external_id: str
    expected_amount_minor: int
    # (token, orders to serve created after `since`) → a context manager of a local fake API's base URL,
    # plus a way to wrap one served object as a delivery of the order event
    fake_api: Callable[..., contextlib.AbstractContextManager]
    as_event: Callable[[dict], dict]
    # (token, started) → a context manager of a local fake API's base URL and the one subscription it
    # serves, plus a way to wrap that subscription as a delivery of a subscription event
    subscription_api: Callable[..., contextlib.AbstractContextManager]
    as_subscription_event: Callable[[dict], dict]


@contextlib.contextmanager
def polar_fake(token: str, orders: int, since: dt.datetime):
    with FakePolar(token=token) as fake:
        for i in range(orders):
            fake.add_order(created_at=since + dt.timedelta(minutes=i + 1))
        yield fake.base_url, fake.orders


@contextlib.contextmanager
def polar_subscription_fake(token: str, started: dt.datetime):
    with FakePolar(token=token) as fake:
        yield fake.base_url, fake.add_subscription(started_at=started, cancel_at_period_end=True)


KITS = {
    "polar": Kit(
        secret="whsec_Kx7Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2Uc7Vq",
        order_event=polar.payload("order_created_purchase"),
        sign=polar.sign,
        expected_order_external_id="0b6f3c2e-7a41-4d8e-9f1b-2c5a8e9d4f10",
        expected_amount_minor=4410,
        fake_api=polar_fake,
        as_event=lambda data: {**polar.payload("order_created_purchase"), "data": data},
        subscription_api=polar_subscription_fake,
        as_subscription_event=lambda data: {**polar.payload("subscription_updated_revoked"), "data": data},
    ),
}


def test_every_registered_adapter_has_a_contract_kit():
    assert set(KITS) == set(ADAPTERS)


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
    kit = KITS[request.param]
    creds = ConnectionCredentials(
        api_token="t", webhook_secret=kit.secret, api_base_url="http://127.0.0.1:9", options={}
    )
    adapter = ADAPTERS[request.param](creds, clock=lambda: NOW)
    assert isinstance(adapter, ProcessorAdapter)
    return adapter, kit, polar.encode(kit.order_event)


def verify(adapter, body, headers):
    with time_machine.travel(NOW, tick=False):
        adapter.verify_signature(body=body, headers=headers)


def test_good_signature_verifies_and_parses(case):
    adapter, kit, body = case
    headers = kit.sign(body, kit.secret, at=NOW)
    verify(adapter, body, headers)

    assert adapter.delivery_id(body=body, headers=headers) == adapter.delivery_id(body=body, headers=dict(headers))
    parsed = adapter.parse_event(body=body, headers=headers)
    assert isinstance(parsed, ParsedEvent)
    (change,) = parsed.changes
    assert isinstance(change, OrderChange)
    assert change.order.external_id == kit.expected_order_external_id
    assert change.order.amount_minor == kit.expected_amount_minor
    assert adapter.handles(adapter.event_type(payload=kit.order_event))


def test_tampered_body_is_rejected(case):
    adapter, kit, body = case
    headers = kit.sign(body, kit.secret, at=NOW)
    with pytest.raises(SignatureInvalid):
        verify(adapter, body.replace(b"4410", b"1"), headers)


def test_wrong_secret_is_rejected(case):
    adapter, kit, body = case
    with pytest.raises(SignatureInvalid):
        verify(adapter, body, kit.sign(body, kit.secret + "x", at=NOW))


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_rejected(case, header):
    adapter, kit, body = case
    headers = kit.sign(body, kit.secret, at=NOW)
    del headers[header]
    with pytest.raises(SignatureInvalid):
        verify(adapter, body, headers)


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-5, seconds=-2), dt.timedelta(minutes=5, seconds=2)])
def test_stale_signature_is_rejected(case, offset):
    adapter, kit, body = case
    with pytest.raises(SignatureStale):
        verify(adapter, body, kit.sign(body, kit.secret, at=NOW + offset))


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-4, seconds=-50), dt.timedelta(minutes=4, seconds=50)])
def test_signature_inside_the_window_is_accepted(case, offset):
    adapter, kit, body = case
    verify(adapter, body, kit.sign(body, kit.secret, at=NOW + offset))


def test_unknown_event_type_is_not_handled(case):
    adapter, _, _ = case
    assert not adapter.handles("benefit_grant.created")


def api_adapter(case, base_url: str, token: str) -> ProcessorAdapter:
    adapter, kit, _ = case
    creds = ConnectionCredentials(api_token=token, webhook_secret=kit.secret, api_base_url=base_url, options={})
    return type(adapter)(creds, http=HttpClient(base_url=base_url, token=token, sleep=lambda s: None))


def test_list_changes_pages_through_everything_and_matches_the_webhook_mapping(case):
    """Webhook and poll share the mapping: the same object gives the same normalized order."""
    _, kit, _ = case
    since = NOW - dt.timedelta(days=2)
    with kit.fake_api("tok", 230, since) as (base_url, served):
        adapter = api_adapter(case, base_url, "tok")
        pages = list(adapter.list_changes(since=since))
        listed = {c.order.external_id: c.order for p in pages for c in p.changes if isinstance(c, OrderChange)}
        fetched = adapter.fetch_order(external_id=served[7]["id"])
        adapter.check_credentials()

    assert len(listed) == 230
    assert all(page.pages >= page.page or not page.changes for page in pages)
    assert fetched == listed[served[7]["id"]]
    body = polar.encode(kit.as_event(served[7]))
    (change,) = adapter.parse_event(body=body, headers={}).changes
    assert change.order == listed[served[7]["id"]]


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
    body = polar.encode(kit.as_subscription_event(served))
    (change,) = (c for c in adapter.parse_event(body=body, headers={}).changes if isinstance(c, SubscriptionChange))
    assert change.subscription == fetched


def test_a_bad_token_is_rejected_with_its_status(case):
    _, kit, _ = case
    with kit.fake_api("tok", 0, NOW) as (base_url, _), pytest.raises(ProcessorRejected) as error:
        api_adapter(case, base_url, "wrong").check_credentials()
    assert error.value.status_code == 401
