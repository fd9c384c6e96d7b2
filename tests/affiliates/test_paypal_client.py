"""The PayPal Payouts client against `responses`, answering with the documented bodies (payloads/README.md)."""

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from affiliates.payout_methods.errors import PayoutError
from affiliates.payout_methods.paypal import (
    FAILED_ITEM_STATUSES,
    FINAL_BATCH_STATUSES,
    FINAL_ITEM_STATUSES,
    PAYPAL_SANDBOX,
    PayPalBatch,
    PayPalItem,
    PayPalItemStatus,
    PayPalPayouts,
)

PAYLOADS = Path(__file__).parent / "payloads" / "paypal"
CLIENT_ID = "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5aUCJNn0wfQ8ay7AS1Vwy5lPyTJf4yGXvdhHJF5J2Q3nQ"
CLIENT_SECRET = "ECYYrrSHdKfk_Q0EdvzdGkzj58a66kKaUQ5dZAEv4HvvtDId2_DpSuYDB088BZxGuMji7G4OFUnPog6p"
TOKEN_URL = f"{PAYPAL_SANDBOX}/v1/oauth2/token"
PAYOUTS_URL = f"{PAYPAL_SANDBOX}/v1/payments/payouts"
BATCH_URL = f"{PAYOUTS_URL}/5UXD2E8A7EBQJ"
SENDER_BATCH_ID = "trackrev-payouts-2026-11-ws42"
ITEMS = [
    PayPalItem("payout-101", "ana@example.com", 4410, "USD", "TrackRev commissions, November 2026"),
    PayPalItem("payout-102", "ben@example.com", 2000, "usd", "TrackRev commissions, November 2026"),
]


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def paypal(clock):
    return PayPalPayouts(CLIENT_ID, CLIENT_SECRET, base_url=PAYPAL_SANDBOX, clock=clock)


ACCESS_TOKEN = "A21AAFEpH4PsADK7qSS7pSRsgzfENtu"


def token(api, access_token: str = ACCESS_TOKEN) -> None:
    api.post(TOKEN_URL, json={**payload("token"), "access_token": access_token})


def create(paypal, items=ITEMS) -> PayPalBatch:
    return paypal.batch_create(
        sender_batch_id=SENDER_BATCH_ID, items=items, email_subject="Your TrackRev affiliate payout"
    )


def calls_to(api, url: str) -> list:
    return [call for call in api.calls if call.request.url.split("?")[0] == url]


# --- the token ------------------------------------------------------------------------------------


def test_the_token_is_asked_for_with_basic_auth_and_client_credentials(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=201, json=payload("batch_created"))

    create(paypal)

    request = api.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.url == TOKEN_URL and request.method == "POST"
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert parse_qs(request.body) == {"grant_type": ["client_credentials"]}
    assert api.calls[1].request.headers["Authorization"] == "Bearer A21AAFEpH4PsADK7qSS7pSRsgzfENtu"


def test_the_token_is_cached_until_shortly_before_it_expires(api, paypal, clock):
    token(api, "first")
    api.post(PAYOUTS_URL, status=201, json=payload("batch_created"))
    api.get(BATCH_URL, json={**payload("batch_page_1"), "total_pages": 1})

    create(paypal)
    clock.now += 32400 - 61  # `expires_in` is 32400 s
    paypal.batch_get("5UXD2E8A7EBQJ")
    assert len(calls_to(api, TOKEN_URL)) == 1

    token(api, "second")
    clock.now += 1
    paypal.batch_get("5UXD2E8A7EBQJ")
    assert len(calls_to(api, TOKEN_URL)) == 2
    assert api.calls[-1].request.headers["Authorization"] == "Bearer second"


def test_a_401_fetches_a_new_token_once_and_repeats_the_call(api, paypal):
    token(api, "revoked")
    api.get(BATCH_URL, status=401, json={"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed."})
    token(api, "fresh")
    api.get(BATCH_URL, json={**payload("batch_page_1"), "total_pages": 1})

    batch = paypal.batch_get("5UXD2E8A7EBQJ")

    assert batch.payout_batch_id == "5UXD2E8A7EBQJ"
    assert [call.request.headers["Authorization"] for call in calls_to(api, BATCH_URL)] == [
        "Bearer revoked",
        "Bearer fresh",
    ]


def test_a_second_401_is_a_failure_that_is_not_retried(api, paypal):
    for _ in range(2):
        token(api)
        api.get(BATCH_URL, status=401, json={"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed."})

    with pytest.raises(PayoutError) as error:
        paypal.batch_get("5UXD2E8A7EBQJ")

    assert error.value.retriable is False
    assert error.value.message == "PayPal answered 401 AUTHENTICATION_FAILURE"
    assert len(calls_to(api, BATCH_URL)) == 2


def test_wrong_credentials_are_not_retriable_and_the_message_holds_no_secret(api, paypal):
    api.post(TOKEN_URL, status=401, json=payload("token_invalid_client"))

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert error.value.retriable is False
    assert error.value.message == "PayPal answered 401 invalid_client"
    assert CLIENT_SECRET not in str(error.value) and CLIENT_ID not in str(error.value)


# --- batch_create ---------------------------------------------------------------------------------


def test_batch_create_posts_the_documented_body(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=201, json=payload("batch_created"))

    batch = create(paypal)

    request = calls_to(api, PAYOUTS_URL)[0].request
    assert request.method == "POST" and request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "sender_batch_header": {
            "sender_batch_id": SENDER_BATCH_ID,
            "email_subject": "Your TrackRev affiliate payout",
            "recipient_type": "EMAIL",
        },
        "items": [
            {
                "recipient_type": "EMAIL",
                "amount": {"value": "44.10", "currency": "USD"},
                "receiver": "ana@example.com",
                "note": "TrackRev commissions, November 2026",
                "sender_item_id": "payout-101",
            },
            {
                "recipient_type": "EMAIL",
                "amount": {"value": "20.00", "currency": "USD"},
                "receiver": "ben@example.com",
                "note": "TrackRev commissions, November 2026",
                "sender_item_id": "payout-102",
            },
        ],
    }
    assert batch == PayPalBatch(payout_batch_id="5UXD2E8A7EBQJ", batch_status="PENDING", items=())


def test_amounts_have_the_currencys_own_decimals(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=201, json=payload("batch_created"))

    create(
        paypal, [PayPalItem("p-1", "ana@example.com", 1500, "JPY", ""), PayPalItem("p-2", "b@x.io", 1234, "KWD", "")]
    )

    amounts = [item["amount"] for item in json.loads(calls_to(api, PAYOUTS_URL)[0].request.body)["items"]]
    assert amounts == [{"value": "1500", "currency": "JPY"}, {"value": "1.234", "currency": "KWD"}]


def test_a_reused_sender_batch_id_returns_the_batch_it_made_and_pays_nothing_twice(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=400, json=payload("duplicate_sender_batch_id"))
    api.get(BATCH_URL, json={**payload("batch_page_1"), "total_pages": 1})

    batch = create(paypal)  # e.g. the retry of a create that timed out after PayPal took it

    assert batch.payout_batch_id == "5UXD2E8A7EBQJ" and batch.batch_status == "SUCCESS"
    assert [item.sender_item_id for item in batch.items] == ["payout-101", "payout-102"]
    assert len(calls_to(api, PAYOUTS_URL)) == 1
    # The link names api.sandbox.paypal.com: only its id is read, and the batch asked of our base URL.
    assert calls_to(api, BATCH_URL)[0].request.url.startswith(PAYPAL_SANDBOX)


def test_a_duplicate_linking_a_batch_of_another_sender_batch_id_is_refused(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=400, json=payload("duplicate_sender_batch_id"))
    page = payload("batch_page_1")
    page["batch_header"]["sender_batch_header"]["sender_batch_id"] = "someone-else"
    api.get(BATCH_URL, json={**page, "total_pages": 1})

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert error.value.retriable is False


def test_a_validation_error_is_not_retriable(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=400, json=payload("validation_error"))

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert (error.value.message, error.value.retriable) == ("PayPal answered 400 VALIDATION_ERROR", False)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, payload("internal_server_error"), "PayPal answered 500 INTERNAL_SERVER_ERROR"),
        (503, None, "PayPal answered 503"),
        (
            429,
            {"name": "RATE_LIMIT_REACHED", "message": "Too many requests."},
            "PayPal answered 429 RATE_LIMIT_REACHED",
        ),
    ],
)
def test_server_errors_and_rate_limits_are_retriable(api, paypal, status, body, message):
    token(api)
    api.post(PAYOUTS_URL, status=status, json=body, body=None if body else "<html>busy</html>")

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert (error.value.message, error.value.retriable) == (message, True)


@pytest.mark.parametrize("exception", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError()])
def test_network_errors_and_timeouts_are_retriable(api, paypal, exception):
    token(api)
    api.post(PAYOUTS_URL, body=exception)

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert error.value.retriable is True
    assert error.value.message == f"PayPal unreachable: {exception.__class__.__name__}"


def test_every_call_has_a_timeout(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=201, json=payload("batch_created"))

    create(paypal)

    assert [call.request.req_kwargs["timeout"] for call in api.calls] == [(3.05, 10), (3.05, 10)]


def test_a_redirect_is_never_followed(api, paypal):
    token(api)
    api.post(PAYOUTS_URL, status=307, headers={"Location": "https://elsewhere.example/v1/payments/payouts"})

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert error.value.message == "PayPal answered a redirect (307)"
    assert len(api.calls) == 2  # the token and the create: elsewhere.example was never asked


def test_the_token_never_appears_in_a_failure(api, paypal):
    token(api, "A21AAFEpH4PsADK7qSS7pSRsgzfENtu")
    api.post(
        PAYOUTS_URL, status=400, json={"name": "INVALID_REQUEST", "message": "token A21AAFEpH4PsADK7qSS7pSRsgzfENtu"}
    )

    with pytest.raises(PayoutError) as error:
        create(paypal)

    assert "A21AAFEpH4PsADK7qSS7pSRsgzfENtu" not in str(error.value)
    assert error.value.message == "PayPal answered 400 INVALID_REQUEST"


# --- batch_get ------------------------------------------------------------------------------------


def test_batch_get_reads_every_page_with_totals(api, paypal):
    token(api)
    api.get(BATCH_URL, json=payload("batch_page_1"))
    api.get(BATCH_URL, json=payload("batch_page_2"))

    batch = paypal.batch_get("5UXD2E8A7EBQJ")

    queries = [parse_qs(urlsplit(call.request.url).query) for call in calls_to(api, BATCH_URL)]
    assert queries == [
        {"page": ["1"], "page_size": ["1000"], "total_required": ["true"]},
        {"page": ["2"], "page_size": ["1000"], "total_required": ["true"]},
    ]
    assert batch == PayPalBatch(
        payout_batch_id="5UXD2E8A7EBQJ",
        batch_status="SUCCESS",
        items=(
            PayPalItemStatus("payout-101", "9MYSR9GT8AEUG", "SUCCESS", ""),
            # Unclaimed is not a failure yet (its RECEIVER_UNREGISTERED is a notice): it may still be claimed.
            PayPalItemStatus("payout-102", "H7AHG9KTR6RW2", "UNCLAIMED", ""),
            PayPalItemStatus("payout-103", "C9K5LFQ3E8P7W", "FAILED", "RECEIVER_ACCOUNT_LOCKED"),
        ),
    )


def test_an_answer_of_an_unexpected_shape_is_a_retriable_failure(api, paypal):
    token(api)
    api.get(BATCH_URL, json={"items": []})

    with pytest.raises(PayoutError) as error:
        paypal.batch_get("5UXD2E8A7EBQJ")

    assert (error.value.message, error.value.retriable) == ("PayPal answered 200 in an unexpected shape", True)


def test_the_batch_id_cannot_reach_another_path(api, paypal):
    token(api)
    api.get(f"{PAYOUTS_URL}/..%2F..%2Foauth2%2Ftoken", json={**payload("batch_page_1"), "total_pages": 1})

    paypal.batch_get("../../oauth2/token")

    assert len(api.calls) == 2


def test_the_states_that_end_an_item_and_a_batch():
    assert "UNCLAIMED" not in FINAL_ITEM_STATUSES  # returned (RETURNED) by PayPal after 30 days unclaimed
    assert {"PENDING", "ONHOLD"}.isdisjoint(FINAL_ITEM_STATUSES)
    assert {"FAILED", "RETURNED", "BLOCKED", "REFUNDED", "REVERSED"} == FAILED_ITEM_STATUSES
    assert FAILED_ITEM_STATUSES | {"SUCCESS"} == FINAL_ITEM_STATUSES
    assert {"SUCCESS", "DENIED", "CANCELED"} == FINAL_BATCH_STATUSES
