"""A month's payouts sent through PayPal Payouts and through a Stripe invoice plus Connect transfers,
against `responses` answering with the APIs' documented bodies (tests/affiliates/payloads/README.md):
paid payouts make their commissions paid, failures are kept on the rows and can be sent again, and a
retriable failure is raised for the outbox to retry under the same idempotency key."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import responses
import time_machine

from affiliates.models import Commission, Payout, PayoutBatch, PayoutSettings
from affiliates.payout_methods.errors import PayoutError
from affiliates.payout_methods.paypal import PAYPAL_SANDBOX
from affiliates.services.payout_sending import payout_batch_retry, payout_batch_send, payout_batches_follow
from affiliates.services.payouts import payouts_create
from tests.factories.affiliates import CommissionFactory, PartnerFactory
from tests.factories.workspaces import MembershipFactory

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads"
NOVEMBER = dt.date(2026, 11, 1)
RUN_AT = dt.datetime(2026, 12, 1, 6, 5, tzinfo=dt.UTC)
PAYPAL_BATCH = "5UXD2E8A7EBQJ"
STRIPE = "https://api.stripe.com"


def answer(kind: str, name: str) -> dict:
    return json.loads((PAYLOADS / kind / f"{name}.json").read_text())


def month_of(program, method: str, details: list[dict], amounts: list[int]) -> list[Payout]:
    """One approved November commission per partner, then the month's payouts created."""
    for n, (detail, amount) in enumerate(zip(details, amounts, strict=True)):
        partner = PartnerFactory(program=program, code=f"p{n}", payout_method=method, payout_details=detail)
        commission = CommissionFactory(partner=partner, status="approved", amount_minor=amount)
        Commission.objects.filter(pk=commission.pk).update(hold_until=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    with time_machine.travel(RUN_AT, tick=False):
        return sorted(payouts_create(workspace=program.workspace, period=NOVEMBER), key=lambda p: p.partner.code)


def paypal_batch_answer(payouts, statuses: list[tuple[str, str]]) -> dict:
    """GET /v1/payments/payouts/{id}: the documented page, with our items and the given states."""
    body = answer("paypal", "batch_page_1")
    template = body["items"][0]
    body.update(total_items=len(payouts), total_pages=1)
    body["items"] = []
    for n, (payout, (state, error)) in enumerate(zip(payouts, statuses, strict=True)):
        item = copy.deepcopy(template)
        item["payout_item_id"], item["transaction_status"] = f"ITEM{n}", state
        item["payout_item"]["sender_item_id"] = f"payout-{payout.pk}"
        if error:
            item["errors"] = {"name": error, "message": "The receiver is not registered."}
        body["items"].append(item)
    return body


@pytest.fixture
def paypal_ready(program):
    PayoutSettings.objects.create(
        workspace=program.workspace, paypal_client_id="client", paypal_client_secret="shh", paypal_mode="sandbox"
    )
    return program


@responses.activate
def test_paypal_pays_successful_items_and_leaves_a_failed_one_to_send_again(paypal_ready):
    program = paypal_ready
    ana, ben = month_of(
        program, "paypal", [{"paypal_email": "ana@example.com"}, {"paypal_email": "ben@example.com"}], [4410, 2000]
    )
    responses.post(f"{PAYPAL_SANDBOX}/v1/oauth2/token", json=answer("paypal", "token"))
    created = responses.post(
        f"{PAYPAL_SANDBOX}/v1/payments/payouts", json=answer("paypal", "batch_created"), status=201
    )
    batch = PayoutBatch.objects.get()

    payout_batch_send(batch_id=batch.pk)
    sent = json.loads(created.calls[0].request.body)
    assert sent["sender_batch_header"]["sender_batch_id"] == f"trackrev-{batch.pk}-0"
    assert sorted((i["receiver"], i["amount"]["value"], i["sender_item_id"]) for i in sent["items"]) == [
        ("ana@example.com", "44.10", f"payout-{ana.pk}"),
        ("ben@example.com", "20.00", f"payout-{ben.pk}"),
    ]
    batch.refresh_from_db()
    assert (batch.status, batch.reference) == ("processing", PAYPAL_BATCH)

    responses.get(
        f"{PAYPAL_SANDBOX}/v1/payments/payouts/{PAYPAL_BATCH}",
        json=paypal_batch_answer([ana, ben], [("SUCCESS", ""), ("FAILED", "RECEIVER_UNREGISTERED")]),
    )
    payout_batches_follow()
    ana.refresh_from_db(), ben.refresh_from_db(), batch.refresh_from_db()
    assert (ana.status, ana.reference) == ("paid", "ITEM0")
    assert (ben.status, ben.error) == ("failed", "PayPal: FAILED RECEIVER_UNREGISTERED")
    assert set(Commission.objects.filter(payout=ana).values_list("status", flat=True)) == {"paid"}
    assert set(Commission.objects.filter(payout=ben).values_list("status", flat=True)) == {"approved"}
    assert batch.status == "failed"

    payout_batch_retry(batch=batch)
    payout_batch_send(batch_id=batch.pk)
    again = json.loads(created.calls[1].request.body)
    assert again["sender_batch_header"]["sender_batch_id"] == f"trackrev-{batch.pk}-1"
    assert [i["sender_item_id"] for i in again["items"]] == [f"payout-{ben.pk}"]  # only the failed one


@responses.activate
def test_a_paypal_outage_is_raised_for_a_retry_and_sends_the_same_batch_id_again(paypal_ready):
    month_of(paypal_ready, "paypal", [{"paypal_email": "ana@example.com"}], [4410])
    responses.post(f"{PAYPAL_SANDBOX}/v1/oauth2/token", json=answer("paypal", "token"))
    outage = responses.post(
        f"{PAYPAL_SANDBOX}/v1/payments/payouts", json=answer("paypal", "internal_server_error"), status=500
    )
    batch = PayoutBatch.objects.get()
    with pytest.raises(PayoutError):
        payout_batch_send(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.reference) == ("pending", "") and "500" in batch.error
    with pytest.raises(PayoutError):
        payout_batch_send(batch_id=batch.pk)
    ids = {json.loads(call.request.body)["sender_batch_header"]["sender_batch_id"] for call in outage.calls}
    assert ids == {f"trackrev-{batch.pk}-0"}  # PayPal pays one sender_batch_id once


@responses.activate
def test_paypal_without_credentials_fails_the_batch_with_a_clear_error(program):
    (payout,) = month_of(program, "paypal", [{"paypal_email": "ana@example.com"}], [4410])
    payout_batch_send(batch_id=payout.batch_id)
    payout.refresh_from_db()
    assert payout.status == "failed" and "PayPal is not set up" in payout.error


@responses.activate
def test_stripe_invoices_the_workspace_then_transfers_to_each_partner_once_paid(program, settings):
    settings.STRIPE_PAYOUTS_API_KEY, settings.STRIPE_PAYOUTS_API_URL = "sk_test_operator", STRIPE
    MembershipFactory(workspace=program.workspace, user__email="founder@shop.example.com", role="owner")
    ana, ben = month_of(
        program,
        "stripe",
        [{"stripe_account": "acct_1PartnerAna"}, {"stripe_account": "acct_1PartnerBen"}],
        [4410, 2000],
    )
    customer = responses.post(f"{STRIPE}/v1/customers", json=answer("stripe", "customer"))
    responses.post(f"{STRIPE}/v1/invoices", json=answer("stripe", "invoice_draft"))
    items = responses.post(f"{STRIPE}/v1/invoiceitems", json=answer("stripe", "invoiceitem"))
    invoice_id = answer("stripe", "invoice_draft")["id"]
    responses.post(f"{STRIPE}/v1/invoices/{invoice_id}/finalize", json=answer("stripe", "invoice_sent"))
    responses.post(f"{STRIPE}/v1/invoices/{invoice_id}/send", json=answer("stripe", "invoice_sent"))
    batch = PayoutBatch.objects.get()

    payout_batch_send(batch_id=batch.pk)
    assert "email=founder%40shop.example.com" in customer.calls[0].request.body
    assert [call.request.body.count("amount=") for call in items.calls] == [1, 1]
    batch.refresh_from_db()
    assert (batch.status, batch.reference) == ("processing", invoice_id)

    unpaid = responses.get(f"{STRIPE}/v1/invoices/{invoice_id}", json=answer("stripe", "invoice_sent"))
    payout_batches_follow()
    assert Payout.objects.filter(status="processing").count() == 2  # nothing moves before the invoice is paid

    responses.replace(responses.GET, unpaid.url, json={**answer("stripe", "invoice_paid"), "id": invoice_id})
    transfer = answer("stripe", "transfer")
    transfers = responses.post(f"{STRIPE}/v1/transfers", json=transfer)
    payout_batches_follow()
    ana.refresh_from_db(), ben.refresh_from_db(), batch.refresh_from_db()
    assert (ana.status, ben.status, batch.status) == ("paid", "paid", "paid")
    sent = {call.request.headers["Idempotency-Key"]: call.request.body for call in transfers.calls}
    assert sent.keys() == {f"trackrev-payout-{ana.pk}", f"trackrev-payout-{ben.pk}"}
    assert "destination=acct_1PartnerAna" in sent[f"trackrev-payout-{ana.pk}"]
    assert set(Commission.objects.values_list("status", flat=True)) == {"paid"}


@responses.activate
def test_a_refused_transfer_fails_that_payout_only(program, settings):
    settings.STRIPE_PAYOUTS_API_KEY, settings.STRIPE_PAYOUTS_API_URL = "sk_test_operator", STRIPE
    ana, ben = month_of(
        program,
        "stripe",
        [{"stripe_account": "acct_1PartnerAna"}, {"stripe_account": "acct_1PartnerBen"}],
        [4410, 2000],
    )
    batch = PayoutBatch.objects.get()
    PayoutSettings.objects.create(workspace=program.workspace, stripe_customer_id="cus_known")
    PayoutBatch.objects.filter(pk=batch.pk).update(status="processing", reference="in_1")
    Payout.objects.update(status="processing")
    responses.get(f"{STRIPE}/v1/invoices/in_1", json={**answer("stripe", "invoice_paid"), "id": "in_1"})

    def transfer(request):  # Stripe refuses Ana's account, takes Ben's
        if "acct_1PartnerAna" in request.body:
            return 400, {}, json.dumps(answer("stripe", "error_invalid_request"))
        return 200, {}, json.dumps(answer("stripe", "transfer"))

    responses.add_callback(responses.POST, f"{STRIPE}/v1/transfers", callback=transfer)
    payout_batches_follow()
    ana.refresh_from_db(), ben.refresh_from_db(), batch.refresh_from_db()
    assert ana.status == "failed" and "invalid_request_error" in ana.error
    assert ben.status == "paid"
    assert batch.status == "failed"
