"""Monthly payouts: each partner's approved commissions whose hold ended by the end of the month (clawbacks
deducted, totals below the program's minimum carried forward), one payout per partner and month, sent
in one batch per program and method. Manual payouts wait to be marked paid; PayPal and Stripe batches
are sent and followed by jobs (affiliates/services/payout_sending.py)."""

import csv
import datetime as dt
import io
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from affiliates.models import (
    Commission,
    CommissionStatus,
    Partner,
    PartnerStatus,
    Payout,
    PayoutBatch,
    PayoutMethod,
    PayoutStatus,
    Program,
)
from affiliates.services.events import payout_paid_told
from trackrev.common.errors import ApplicationError
from trackrev.common.money import money_format
from trackrev.outbox.services import notifications_enqueue
from trackrev.workspaces.models import Workspace

SEND_TASK = "affiliates.payout_batch_send"


def period_parse(value: str) -> dt.date:
    """`YYYY-MM` → the month's first day."""
    try:
        day = dt.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError) as error:
        raise ApplicationError("A period is a month, YYYY-MM.") from error
    if day.year < 2000:
        raise ApplicationError("A period is a month, YYYY-MM.")
    return day


def period_end(period: dt.date) -> dt.datetime:
    return dt.datetime.combine(period + relativedelta(months=1), dt.time(), tzinfo=dt.UTC)


def previous_period(now: dt.datetime | None = None) -> dt.date:
    return ((now or timezone.now()).date().replace(day=1)) - relativedelta(months=1)


@transaction.atomic
def payouts_create(*, workspace: Workspace, period: dt.date) -> list[Payout]:
    """Create the month's payouts (a second run adds only what the first could not); returns every payout
    of the workspace for that month. Batches to send are queued through the outbox."""
    if period_end(period) > timezone.now():
        raise ApplicationError("A month can be paid out once it has ended.")
    for program in Program.objects.filter(workspace=workspace):
        _program_payouts_create(program, period)
    return list(Payout.objects.filter(workspace=workspace, period=period).select_related("partner"))


def _program_payouts_create(program: Program, period: dt.date) -> None:
    due = (
        Commission.objects.select_for_update()
        .filter(program=program, status=CommissionStatus.APPROVED, payout__isnull=True)
        .filter(hold_until__lt=period_end(period))
    )
    per_partner: dict[int, list[Commission]] = defaultdict(list)
    for commission in due:
        per_partner[commission.partner_id].append(commission)
    partners = Partner.objects.in_bulk(per_partner.keys())
    queued: set[int] = set()
    for partner_id, commissions in per_partner.items():
        partner, total = partners[partner_id], sum(c.amount_minor for c in commissions)
        already = Payout.objects.filter(partner=partner, period=period).exists()
        if already or partner.status != PartnerStatus.APPROVED or total <= 0 or total < program.minimum_payout_minor:
            continue  # carried forward to a later month
        batch, _ = PayoutBatch.objects.get_or_create(
            program=program,
            period=period,
            method=partner.payout_method,
            defaults={"workspace_id": program.workspace_id},
        )
        payout = Payout.objects.create(
            workspace_id=program.workspace_id,
            batch=batch,
            partner=partner,
            period=period,
            method=partner.payout_method,
            amount_minor=total,
            currency=program.currency,
        )
        Commission.objects.filter(pk__in=[c.pk for c in commissions]).update(payout=payout)
        if batch.method != PayoutMethod.MANUAL:
            queued.add(batch.pk)
    notifications_enqueue(tasks=[SEND_TASK], subject_ids=sorted(queued))


def payouts_monthly(now: dt.datetime | None = None) -> int:
    """The 1st of each month: every workspace with a program pays out the month before."""
    period, created = previous_period(now), 0
    for workspace in Workspace.objects.filter(pk__in=Program.objects.values("workspace_id")).iterator():
        created += len(payouts_create(workspace=workspace, period=period))
    return created


@transaction.atomic
def payout_paid(*, payout: Payout, reference: str = "") -> Payout:
    """The money reached the partner: the payout and the commissions it carries are paid."""
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    if payout.status == PayoutStatus.PAID:
        return payout
    payout.status, payout.paid_at, payout.error = PayoutStatus.PAID, timezone.now(), ""
    payout.reference = reference or payout.reference
    payout.save(update_fields=["status", "paid_at", "error", "reference"])
    payout.commissions.update(status=CommissionStatus.PAID, updated_at=timezone.now())
    batch = payout.batch
    if not batch.payouts.exclude(status=PayoutStatus.PAID).exists():
        batch.status = PayoutStatus.PAID
        batch.save(update_fields=["status", "updated_at"])
    payout_paid_told(payout=payout)
    return payout


def payout_mark_paid(*, payout: Payout) -> Payout:
    """A manual transfer the workspace made itself."""
    if payout.method != PayoutMethod.MANUAL:
        raise ApplicationError("Only manual payouts are marked paid by hand; the others follow their processor.")
    return payout_paid(payout=payout)


CSV_COLUMNS = ["payout", "period", "partner", "email", "method", "method_details", "amount", "currency", "commissions"]


def payouts_csv(payouts) -> str:
    """The manual-transfer sheet: one line per payout, with the commission ids it pays."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for payout in payouts:
        details = "; ".join(f"{k}: {v}" for k, v in sorted(payout.partner.payout_details.items()) if v)
        writer.writerow(
            [
                payout.pk,
                f"{payout.period:%Y-%m}",
                payout.partner.name,
                payout.partner.email,
                payout.method,
                details,
                money_format(payout.amount_minor, payout.currency),
                payout.currency,
                " ".join(str(pk) for pk in payout.commissions.order_by("pk").values_list("pk", flat=True)),
            ]
        )
    return out.getvalue()


STATEMENT_COLUMNS = ["commission", "kind", "order", "placed_at", "customer", "amount", "currency"]


def payout_statement_csv(payout: Payout) -> str:
    """What a payout pays, line by line (clawbacks negative), and its total: the partner's statement."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATEMENT_COLUMNS)
    rows = payout.commissions.select_related("order").order_by("order__placed_at", "pk")
    for row in rows:
        writer.writerow(
            [
                row.pk,
                row.kind,
                row.order.external_id,
                row.order.placed_at.isoformat(),
                customer_masked(row.order),
                money_format(row.amount_minor, row.currency),
                row.currency,
            ]
        )
    total = rows.aggregate(total=Sum("amount_minor"))["total"] or 0
    writer.writerow(["total", "", "", "", "", money_format(total, payout.currency), payout.currency])
    return out.getvalue()


def customer_masked(order) -> str:
    """What a partner may know of a customer: never the address, at most its domain."""
    return f"•••@{order.customer_email_domain}" if order.customer_email_domain else "•••"


def stripe_payouts_available() -> bool:
    return bool(settings.STRIPE_PAYOUTS_API_KEY)
