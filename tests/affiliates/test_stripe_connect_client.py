"""The Stripe Connect payouts client against `responses`, answering with the documented objects
(payloads/README.md); the stripe SDK builds the same requests to check our form encoding against its own."""

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
import responses
import stripe

from affiliates.payout_methods.errors import PayoutError
from affiliates.payout_methods.stripe_connect import (
    STRIPE_API,
    StripeConnectPayouts,
    StripeInvoice,
    StripeTransfer,
)

PAYLOADS = Path(__file__).parent / "payloads" / "stripe"
API_KEY = "sk_test_51OperatorKeyThatMustNeverBeShownAnywhere0123456789SECRET"
INVOICE = "in_1SxPay0utsWs42Nov"
KEY = "payouts-2026-11-ws42"
LINES = [("Ana Lima, November 2026 commissions", 4410), ("Ben Ito, November 2026 commissions", 2000)]


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def connect():
    return StripeConnectPayouts(API_KEY)


@pytest.fixture
def sdk():
    """The stripe SDK, sending through `requests` (so `responses` answers it), never retrying."""
    return stripe.StripeClient(API_KEY, http_client=stripe.RequestsClient(), max_network_retries=0)


def fields(call) -> list[tuple[str, str]]:
    return sorted(parse_qsl(call.request.body or ""))


def invoice_flow(api) -> None:
    api.post(f"{STRIPE_API}/v1/invoices", json=payload("invoice_draft"))
    api.post(f"{STRIPE_API}/v1/invoiceitems", json=payload("invoiceitem"))
    api.post(f"{STRIPE_API}/v1/invoiceitems", json={**payload("invoiceitem"), "id": "ii_1SxItem1Ben", "amount": 2000})
    api.post(f"{STRIPE_API}/v1/invoices/{INVOICE}/finalize", json={**payload("invoice_sent"), "status": "open"})
    api.post(f"{STRIPE_API}/v1/invoices/{INVOICE}/send", json=payload("invoice_sent"))


def invoice_create(connect) -> StripeInvoice:
    return connect.invoice_create(
        customer="cus_TrW0rkSp4ce42",
        currency="USD",
        lines=LINES,
        metadata={"workspace": "42", "period": "2026-11"},
        days_until_due=30,
        idempotency_key=KEY,
    )


# --- invoices -------------------------------------------------------------------------------------


def test_invoice_create_makes_a_draft_adds_the_lines_then_finalizes_and_sends_it(api, connect):
    invoice_flow(api)

    invoice = invoice_create(connect)

    assert [(call.request.method, call.request.url) for call in api.calls] == [
        ("POST", f"{STRIPE_API}/v1/invoices"),
        ("POST", f"{STRIPE_API}/v1/invoiceitems"),
        ("POST", f"{STRIPE_API}/v1/invoiceitems"),
        ("POST", f"{STRIPE_API}/v1/invoices/{INVOICE}/finalize"),
        ("POST", f"{STRIPE_API}/v1/invoices/{INVOICE}/send"),
    ]
    assert fields(api.calls[0]) == sorted(
        [
            ("customer", "cus_TrW0rkSp4ce42"),
            ("currency", "usd"),
            ("collection_method", "send_invoice"),
            ("days_until_due", "30"),
            ("auto_advance", "false"),
            ("pending_invoice_items_behavior", "exclude"),
            ("metadata[workspace]", "42"),
            ("metadata[period]", "2026-11"),
        ]
    )
    assert fields(api.calls[1]) == sorted(
        [
            ("customer", "cus_TrW0rkSp4ce42"),
            ("invoice", INVOICE),
            ("amount", "4410"),
            ("currency", "usd"),
            ("description", "Ana Lima, November 2026 commissions"),
        ]
    )
    assert dict(fields(api.calls[2]))["amount"] == "2000"
    assert fields(api.calls[3]) == fields(api.calls[4]) == []
    assert invoice == StripeInvoice(
        id=INVOICE,
        status="open",
        amount_due=6410,
        currency="usd",
        hosted_invoice_url="https://invoice.stripe.com/i/acct_1Operator/test_YWNjdF8xT3BlcmF0b3IsX1R4V29ya3NwYWNlNDI0",
    )


def test_every_step_has_its_own_key_derived_from_the_callers(api, connect):
    invoice_flow(api)

    invoice_create(connect)

    assert [call.request.headers["Idempotency-Key"] for call in api.calls] == [
        f"{KEY}:invoice",
        f"{KEY}:item:0",
        f"{KEY}:item:1",
        f"{KEY}:finalize",
        f"{KEY}:send",
    ]


def test_every_request_is_authenticated_pinned_to_the_api_version_and_timed_out(api, connect):
    invoice_flow(api)
    api.get(f"{STRIPE_API}/v1/invoices/{INVOICE}", json=payload("invoice_paid"))

    invoice_create(connect)
    connect.invoice_get(INVOICE)

    for call in api.calls:
        assert call.request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert call.request.headers["Stripe-Version"] == "2026-06-24.dahlia" == stripe.api_version
        assert call.request.req_kwargs["timeout"] == (3.05, 15)


def test_our_invoice_and_invoice_item_forms_are_the_sdks(api, connect, sdk):
    invoice_flow(api)
    api.post(f"{STRIPE_API}/v1/invoices", json=payload("invoice_draft"))
    api.post(f"{STRIPE_API}/v1/invoiceitems", json=payload("invoiceitem"))

    invoice_create(connect)
    sdk.v1.invoices.create(
        {
            "customer": "cus_TrW0rkSp4ce42",
            "currency": "usd",
            "collection_method": "send_invoice",
            "days_until_due": 30,
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "metadata": {"workspace": "42", "period": "2026-11"},
        },
        {"idempotency_key": f"{KEY}:invoice"},
    )
    sdk.v1.invoice_items.create(
        {
            "customer": "cus_TrW0rkSp4ce42",
            "invoice": INVOICE,
            "amount": 4410,
            "currency": "usd",
            "description": "Ana Lima, November 2026 commissions",
        },
        {"idempotency_key": f"{KEY}:item:0"},
    )

    ours, theirs = api.calls[:2], api.calls[5:]
    assert [fields(call) for call in ours] == [fields(call) for call in theirs]
    for mine, sdks in zip(ours, theirs, strict=True):
        assert mine.request.url == sdks.request.url
        for header in ("Authorization", "Idempotency-Key", "Stripe-Version", "Content-Type"):
            assert mine.request.headers[header] == sdks.request.headers[header]


def test_invoice_get_reads_the_invoice(api, connect):
    api.get(f"{STRIPE_API}/v1/invoices/{INVOICE}", json=payload("invoice_paid"))

    invoice = connect.invoice_get(INVOICE)

    assert (invoice.status, invoice.amount_due) == ("paid", 6410)
    assert api.calls[0].request.method == "GET" and "Idempotency-Key" not in api.calls[0].request.headers


def test_a_draft_has_no_hosted_url_yet(api, connect):
    api.get(f"{STRIPE_API}/v1/invoices/{INVOICE}", json=payload("invoice_draft"))

    assert connect.invoice_get(INVOICE).hosted_invoice_url == ""


# --- customers and transfers ----------------------------------------------------------------------


def test_customer_create_posts_the_fields_the_sdk_would(api, connect, sdk):
    api.post(f"{STRIPE_API}/v1/customers", json=payload("customer"))
    api.post(f"{STRIPE_API}/v1/customers", json=payload("customer"))
    params = {"email": "billing@acme.example", "name": "Acme Inc.", "metadata": {"workspace": "42"}}

    customer = connect.customer_create(**params, idempotency_key="customer:ws42")
    sdk.v1.customers.create(params, {"idempotency_key": "customer:ws42"})

    assert customer == "cus_TrW0rkSp4ce42"
    assert fields(api.calls[0]) == fields(api.calls[1])
    assert fields(api.calls[0]) == sorted(
        [("email", "billing@acme.example"), ("name", "Acme Inc."), ("metadata[workspace]", "42")]
    )
    assert api.calls[0].request.headers["Idempotency-Key"] == "customer:ws42"


def test_transfer_create_posts_the_fields_the_sdk_would(api, connect, sdk):
    api.post(f"{STRIPE_API}/v1/transfers", json=payload("transfer"))
    api.post(f"{STRIPE_API}/v1/transfers", json=payload("transfer"))

    transfer = connect.transfer_create(
        amount_minor=4410,
        currency="USD",
        destination="acct_1PartnerAna",
        transfer_group="payouts-2026-11-ws42",
        metadata={"payout": "101"},
        idempotency_key="transfer:101",
    )
    sdk.v1.transfers.create(
        {
            "amount": 4410,
            "currency": "usd",
            "destination": "acct_1PartnerAna",
            "transfer_group": "payouts-2026-11-ws42",
            "metadata": {"payout": "101"},
        },
        {"idempotency_key": "transfer:101"},
    )

    assert transfer == StripeTransfer(
        id="tr_1SxTransferAna", amount=4410, currency="usd", destination="acct_1PartnerAna"
    )
    assert fields(api.calls[0]) == fields(api.calls[1])
    assert api.calls[0].request.headers["Idempotency-Key"] == "transfer:101"


def test_a_zero_decimal_amount_is_sent_as_its_integer(api, connect):
    api.post(f"{STRIPE_API}/v1/transfers", json={**payload("transfer"), "amount": 1500, "currency": "jpy"})

    connect.transfer_create(
        amount_minor=1500, currency="JPY", destination="acct_1PartnerAna", transfer_group="g", metadata={},
        idempotency_key="transfer:102",
    )  # fmt: skip

    assert ("amount", "1500") in fields(api.calls[0]) and ("currency", "jpy") in fields(api.calls[0])


# --- failures -------------------------------------------------------------------------------------


def transfer(connect) -> StripeTransfer:
    return connect.transfer_create(
        amount_minor=4410,
        currency="usd",
        destination="acct_1PartnerAna",
        transfer_group="payouts-2026-11-ws42",
        metadata={},
        idempotency_key="transfer:101",
    )


RETRY = {"Stripe-Should-Retry": "true"}
NO_RETRY = {"Stripe-Should-Retry": "false"}


@pytest.mark.parametrize(
    ("status", "body", "headers", "message", "retriable"),
    [
        (500, "error_api", {}, "Stripe answered 500 api_error", True),
        (429, "error_rate_limit", {}, "Stripe answered 429 invalid_request_error/rate_limit", True),
        (400, "error_invalid_request", {}, "Stripe answered 400 invalid_request_error/parameter_missing", False),
        (
            400,
            "error_balance_insufficient",
            {},
            "Stripe answered 400 invalid_request_error/balance_insufficient",
            False,
        ),
        (400, "error_idempotency", {}, "Stripe answered 400 idempotency_error", False),
        (401, "error_authentication", {}, "Stripe answered 401 invalid_request_error", False),
        # Stripe's own word wins over the status and the type, both ways.
        (409, "error_lock_timeout", RETRY, "Stripe answered 409 invalid_request_error/lock_timeout", True),
        (500, "error_api", NO_RETRY, "Stripe answered 500 api_error", False),
        (400, "error_idempotency", RETRY, "Stripe answered 400 idempotency_error", True),
    ],
)
def test_stripe_errors_are_mapped_from_the_error_object(api, connect, status, body, headers, message, retriable):
    api.post(f"{STRIPE_API}/v1/transfers", status=status, json=payload(body), headers=headers)

    with pytest.raises(PayoutError) as error:
        transfer(connect)

    assert (error.value.message, error.value.retriable) == (message, retriable)


def test_a_rejected_key_is_never_in_the_failure(api, connect):
    api.post(f"{STRIPE_API}/v1/transfers", status=401, json=payload("error_authentication"))

    with pytest.raises(PayoutError) as error:
        transfer(connect)

    assert "SECRET" not in str(error.value) and "sk_test" not in str(error.value)


@pytest.mark.parametrize("exception", [requests.exceptions.ConnectTimeout(), requests.exceptions.ConnectionError()])
def test_network_errors_and_timeouts_are_retriable(api, connect, exception):
    api.post(f"{STRIPE_API}/v1/transfers", body=exception)

    with pytest.raises(PayoutError) as error:
        transfer(connect)

    assert (error.value.message, error.value.retriable) == (f"Stripe unreachable: {exception.__class__.__name__}", True)


def test_a_redirect_is_never_followed(api, connect):
    api.post(f"{STRIPE_API}/v1/transfers", status=302, headers={"Location": "https://elsewhere.example/v1/transfers"})

    with pytest.raises(PayoutError) as error:
        transfer(connect)

    assert (error.value.message, error.value.retriable) == ("Stripe answered a redirect (302)", False)
    assert len(api.calls) == 1


def test_a_failed_step_stops_the_invoice_and_a_retry_repeats_every_key(api, connect):
    api.post(f"{STRIPE_API}/v1/invoices", json=payload("invoice_draft"))
    api.post(f"{STRIPE_API}/v1/invoiceitems", status=503, json=payload("error_api"))

    with pytest.raises(PayoutError) as error:
        invoice_create(connect)
    assert error.value.retriable is True
    assert len(api.calls) == 2

    invoice_flow(api)
    invoice_create(connect)
    keys = [call.request.headers["Idempotency-Key"] for call in api.calls]
    assert keys[:2] == keys[2:4] == [f"{KEY}:invoice", f"{KEY}:item:0"]
