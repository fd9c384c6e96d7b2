"""Sending a month's PayPal and Stripe payout batches, and following them until final.

PayPal: one batch payout from the workspace's own PayPal business account; its items are polled until
final; a failed item leaves its payout `failed`, sent again in a new batch by `payout_batch_retry`.
Stripe: the operator's Stripe account (STRIPE_PAYOUTS_API_KEY) invoices the workspace for the batch; once
the invoice is paid, one Connect transfer per partner. A retriable error (network, 429, 5xx) is raised, so
the outbox retries the send with backoff under the same idempotency key; any other is kept on the row."""

from django.conf import settings
from django.db import transaction

from affiliates.models import Payout, PayoutBatch, PayoutMethod, PayoutSettings, PayoutStatus
from affiliates.payout_methods.errors import PayoutError
from affiliates.payout_methods.paypal import (
    FAILED_ITEM_STATUSES,
    PAYPAL_LIVE,
    PAYPAL_SANDBOX,
    PayPalItem,
    PayPalPayouts,
)
from affiliates.payout_methods.stripe_connect import StripeConnectPayouts
from affiliates.services.payouts import SEND_TASK, payout_paid
from trackrev.common.errors import ApplicationError
from trackrev.outbox.services import notifications_enqueue
from trackrev.workspaces.models import Membership, Role

UNSENT = (PayoutStatus.PENDING, PayoutStatus.FAILED)
INVOICE_DAYS_DUE = 14


def payout_batch_send(*, batch_id: int) -> None:
    batch = PayoutBatch.objects.select_related("program", "workspace").filter(pk=batch_id).first()
    if batch is None or batch.status != PayoutStatus.PENDING:
        return  # sent already (a duplicate notification), or nothing to send
    try:
        if batch.method == PayoutMethod.PAYPAL:
            _paypal_send(batch)
        elif batch.method == PayoutMethod.STRIPE:
            _stripe_invoice(batch)
    except PayoutError as error:
        _batch_error(batch, error.message, final=not error.retriable)
        if error.retriable:
            raise


def _batch_error(batch: PayoutBatch, message: str, *, final: bool) -> None:
    batch.error = message
    fields = ["error", "updated_at"]
    if final:
        batch.status = PayoutStatus.FAILED
        fields.append("status")
        batch.payouts.filter(status__in=(*UNSENT, PayoutStatus.PROCESSING)).update(
            status=PayoutStatus.FAILED, error=message
        )
    batch.save(update_fields=fields)


def _sent(batch: PayoutBatch, *, reference: str, url: str = "") -> None:
    with transaction.atomic():
        batch.reference, batch.reference_url, batch.status, batch.error = reference, url, PayoutStatus.PROCESSING, ""
        batch.save(update_fields=["reference", "reference_url", "status", "error", "updated_at"])
        batch.payouts.filter(status__in=UNSENT).update(status=PayoutStatus.PROCESSING, error="")


# --- PayPal -------------------------------------------------------------------------------------------
def _paypal(batch: PayoutBatch) -> PayPalPayouts:
    config = PayoutSettings.objects.filter(workspace=batch.workspace).first()
    if config is None or not config.paypal_client_id or not config.paypal_client_secret:
        raise PayoutError("PayPal is not set up: add the workspace's PayPal client id and secret.", retriable=False)
    base = PAYPAL_SANDBOX if config.paypal_mode == PayoutSettings.Mode.SANDBOX else PAYPAL_LIVE
    return PayPalPayouts(config.paypal_client_id, config.paypal_client_secret, base_url=base)


def _paypal_send(batch: PayoutBatch) -> None:
    payouts = list(batch.payouts.filter(status__in=UNSENT).select_related("partner"))
    items = [
        PayPalItem(
            sender_item_id=f"payout-{payout.pk}",
            receiver_email=payout.partner.payout_details.get("paypal_email", ""),
            amount_minor=payout.amount_minor,
            currency=payout.currency,
            note=f"{batch.program.name}: commissions of {payout.period:%B %Y}",
        )
        for payout in payouts
    ]
    # One id per attempt: PayPal pays a sender_batch_id once, so a retry after a timeout cannot pay twice.
    result = _paypal(batch).batch_create(
        sender_batch_id=f"trackrev-{batch.pk}-{batch.attempts}",
        items=items,
        email_subject=f"Your {batch.program.name} commissions",
    )
    _sent(batch, reference=result.payout_batch_id)


def _paypal_follow(batch: PayoutBatch) -> None:
    result = _paypal(batch).batch_get(batch.reference)
    payouts = {f"payout-{p.pk}": p for p in batch.payouts.filter(status=PayoutStatus.PROCESSING)}
    for item in result.items:
        payout = payouts.get(item.sender_item_id)
        if payout is None:
            continue
        if item.transaction_status == "SUCCESS":
            payout_paid(payout=payout, reference=item.payout_item_id)
        elif item.transaction_status in FAILED_ITEM_STATUSES:
            payout.status, payout.reference = PayoutStatus.FAILED, item.payout_item_id
            payout.error = f"PayPal: {item.transaction_status} {item.error}".strip()
            payout.save(update_fields=["status", "reference", "error"])
    _batch_settle(batch)


# --- Stripe -------------------------------------------------------------------------------------------
def _stripe() -> StripeConnectPayouts:
    if not settings.STRIPE_PAYOUTS_API_KEY:
        raise PayoutError("Stripe payouts are not available: STRIPE_PAYOUTS_API_KEY is unset.", retriable=False)
    return StripeConnectPayouts(settings.STRIPE_PAYOUTS_API_KEY, base_url=settings.STRIPE_PAYOUTS_API_URL)


def _stripe_customer(client: StripeConnectPayouts, batch: PayoutBatch) -> str:
    config, _ = PayoutSettings.objects.get_or_create(workspace=batch.workspace)
    if not config.stripe_customer_id:
        owner = Membership.objects.filter(workspace=batch.workspace, role=Role.OWNER).select_related("user").first()
        config.stripe_customer_id = client.customer_create(
            email=owner.user.email if owner else "",
            name=batch.workspace.name,
            metadata={"trackrev_workspace": batch.workspace.public_id},
            idempotency_key=f"trackrev-workspace-{batch.workspace_id}",
        )
        config.save(update_fields=["stripe_customer_id"])
    return config.stripe_customer_id


def _stripe_invoice(batch: PayoutBatch) -> None:
    client = _stripe()
    payouts = list(batch.payouts.filter(status__in=UNSENT).select_related("partner"))
    invoice = client.invoice_create(
        customer=_stripe_customer(client, batch),
        currency=batch.program.currency,
        lines=[(f"{batch.program.name} · {p.partner.name} · {p.period:%B %Y}", p.amount_minor) for p in payouts],
        metadata={"trackrev_payout_batch": str(batch.pk)},
        days_until_due=INVOICE_DAYS_DUE,
        idempotency_key=f"trackrev-batch-{batch.pk}-{batch.attempts}",
    )
    _sent(batch, reference=invoice.id, url=invoice.hosted_invoice_url)


def _stripe_follow(batch: PayoutBatch) -> None:
    client = _stripe()
    invoice = client.invoice_get(batch.reference)
    if invoice.status in ("void", "uncollectible"):
        _batch_error(batch, f"The Stripe invoice is {invoice.status}.", final=True)
        return
    if invoice.status != "paid":
        return
    for payout in batch.payouts.filter(status=PayoutStatus.PROCESSING).select_related("partner"):
        try:
            transfer = client.transfer_create(
                amount_minor=payout.amount_minor,
                currency=payout.currency,
                destination=payout.partner.payout_details.get("stripe_account", ""),
                transfer_group=f"trackrev-batch-{batch.pk}",
                metadata={"trackrev_payout": str(payout.pk)},
                idempotency_key=f"trackrev-payout-{payout.pk}",
            )
        except PayoutError as error:
            if error.retriable:
                raise
            payout.status, payout.error = PayoutStatus.FAILED, error.message
            payout.save(update_fields=["status", "error"])
            continue
        payout_paid(payout=payout, reference=transfer.id)
    _batch_settle(batch)


# --- Following ----------------------------------------------------------------------------------------
def _batch_settle(batch: PayoutBatch) -> None:
    """Once no payout is on its way, the batch is paid, or failed when one of its payouts failed."""
    batch.refresh_from_db()
    if batch.payouts.filter(status=PayoutStatus.PROCESSING).exists():
        return
    failed = batch.payouts.filter(status=PayoutStatus.FAILED).exists()
    batch.status = PayoutStatus.FAILED if failed else PayoutStatus.PAID
    batch.error = "Some payouts failed; send them again." if failed else ""
    batch.save(update_fields=["status", "error", "updated_at"])


FOLLOWERS = {PayoutMethod.PAYPAL: _paypal_follow, PayoutMethod.STRIPE: _stripe_follow}


def payout_batches_follow() -> int:
    """Every 15 minutes: read the processor's word on each batch on its way. Returns how many it read."""
    followed = 0
    for batch in PayoutBatch.objects.filter(status=PayoutStatus.PROCESSING).select_related("program", "workspace"):
        try:
            FOLLOWERS[batch.method](batch)
        except PayoutError as error:
            _batch_error(batch, error.message, final=not error.retriable)
        followed += 1
    return followed


@transaction.atomic
def payout_batch_retry(*, batch: PayoutBatch) -> PayoutBatch:
    """Send a batch's failed payouts again: a new attempt, under new idempotency keys."""
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != PayoutStatus.FAILED or batch.method == PayoutMethod.MANUAL:
        raise ApplicationError("Only a failed PayPal or Stripe batch can be sent again.")
    batch.status, batch.attempts, batch.reference, batch.reference_url = (
        PayoutStatus.PENDING,
        batch.attempts + 1,
        "",
        "",
    )
    batch.save(update_fields=["status", "attempts", "reference", "reference_url", "updated_at"])
    Payout.objects.filter(batch=batch, status=PayoutStatus.FAILED).update(status=PayoutStatus.PENDING)
    notifications_enqueue(tasks=[SEND_TASK], subject_ids=[batch.pk])
    return batch
