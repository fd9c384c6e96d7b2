"""The commission engine: an ATTRIBUTION_CONSUMERS consumer that derives an order's commission from the
order's current state (its buyer's referral, its status and refunds, its subscription), so duplicate
deliveries, reconciles and replays converge on the same rows. A person's decision (`review`) is kept."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from affiliates.models import Commission, CommissionKind, CommissionStatus, CommissionType, Program, Recurring, Review
from affiliates.services.events import commission_told
from affiliates.services.referrals import Referral, buyer_orders, first_paid, fraud_reasons, referral_find
from integrations.models import EventType, Order
from integrations.models.ledger import PAID_ORDER_STATUSES
from integrations.services.fx import fx_convert_minor
from trackrev.common.errors import ApplicationError
from trackrev.common.money import currency_exponent

REFUNDED = "Refunded."
CANCELED_IN_HOLD = "Subscription canceled inside the hold period."
NOT_REFERRED = "The order is no longer referred to this partner."
REJECTED = "Rejected by the workspace."
HELD_BY_HAND = "Held by the workspace."


def _rounded(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def commission_full(program: Program, order: Order) -> int | None:
    """What the order earns before refunds, in the program's currency (None until the FX rate exists)."""
    if order.amount_minor <= 0:
        return 0
    if program.commission_type == CommissionType.FLAT:
        return _rounded(program.commission_value.scaleb(currency_exponent(program.currency)))
    net = fx_convert_minor(
        amount_minor=order.amount_minor, currency=order.currency, to=program.currency, on=order.placed_at.date()
    )
    return None if net is None else _rounded(Decimal(net) * program.commission_value / 100)


def commission_now(full: int, order: Order) -> int:
    """Partial refunds reverse proportionally; a refunded or unpaid order earns nothing."""
    if order.status not in PAID_ORDER_STATUSES or order.amount_minor <= 0:
        return 0
    kept = max(order.amount_minor - order.refunded_minor, 0)
    return _rounded(Decimal(full) * kept / order.amount_minor)


def _within_policy(program: Program, order: Order, first: Order) -> bool:
    if order.pk == first.pk:
        return True
    if program.recurring == Recurring.ONE_TIME:
        return False
    if program.recurring == Recurring.MONTHS:
        return order.placed_at < first.placed_at + relativedelta(months=program.recurring_months or 0)
    return True


def _hold_until(program: Program, order: Order):
    return (order.paid_at or order.placed_at) + timedelta(days=program.hold_days)


def _canceled_in_hold(program: Program, order: Order, orders: list[Order]) -> bool:
    """The order's subscription was canceled or revoked inside the hold period of its latest order."""
    subscription = order.subscription
    if not program.reverse_on_cancel or subscription is None:
        return False
    moment = subscription.canceled_at or subscription.ended_at
    if moment is None:
        return False
    latest = max((o for o in orders if o.subscription_id == order.subscription_id), key=lambda o: (o.placed_at, o.pk))
    start = order.paid_at or order.placed_at
    return latest.pk == order.pk and start <= moment <= _hold_until(program, order)


def _stopped_by_cancel(order: Order) -> bool:
    """Orders of a subscription after it was canceled earn nothing (it stopped recurring commissions)."""
    subscription = order.subscription
    moment = subscription and (subscription.canceled_at or subscription.ended_at)
    return bool(moment) and order.placed_at > moment


@transaction.atomic
def order_commissions_sync(*, order_id: int) -> None:
    """Derive the order's commission; when the order is its buyer's first, every later order's too (the
    first order decides the referral of all of them). The buyer's orders are locked, so two consumers
    never race. A workspace without a program has nothing to derive."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not Program.objects.filter(workspace_id=order.workspace_id).exists():
        return
    orders = list(
        buyer_orders(order).select_for_update(of=("self",)).select_related("subscription", "workspace").order_by("pk")
    )
    first = first_paid(orders)
    referral = referral_find(first) if first is not None else None
    for each in orders if first is None or first.pk == order.pk else [o for o in orders if o.pk == order.pk]:
        _order_sync(each, orders=orders, referral=referral)


def _order_sync(order: Order, *, orders: list[Order], referral: Referral | None) -> None:
    rows = list(Commission.objects.select_for_update().filter(order=order))
    sale = next((row for row in rows if row.kind == CommissionKind.SALE), None)
    program = sale.program if sale else referral.partner.program if referral else None
    earns = (
        referral is not None
        and (sale is None or sale.partner_id == referral.partner.pk)
        and _within_policy(program, order, referral.first_order)
        and not _stopped_by_cancel(order)
    )
    if sale is None:
        if not earns or order.status not in PAID_ORDER_STATUSES:
            return
        full = commission_full(program, order)
        if not full:
            return
        sale = Commission(
            workspace_id=order.workspace_id,
            program=program,
            partner=referral.partner,
            order=order,
            kind=CommissionKind.SALE,
            currency=program.currency,
            full_minor=full,
            amount_minor=0,
            referred_by=referral.via,
            hold_until=_hold_until(program, order),
            status=CommissionStatus.PENDING,
        )
    target = commission_now(sale.full_minor, order) if earns else 0
    if sale.payout_id is not None:  # paid, or on its way: a later refund becomes a clawback
        _clawback_sync(sale, rows, target, order)
        return
    canceled = earns and sale.status != CommissionStatus.APPROVED and _canceled_in_hold(program, order, orders)
    if canceled:
        target = 0
    before = sale.status if sale.pk else None
    sale.amount_minor = target
    sale.status, sale.reason = _status(sale, order, referral if earns else None, canceled=canceled)
    sale.save()
    reversed_now = sale.status == CommissionStatus.REVERSED
    if before is None and not reversed_now:
        commission_told(commission=sale, order=order, event_type=EventType.COMMISSION_CREATED)
    elif before not in (None, CommissionStatus.REVERSED) and reversed_now:
        commission_told(commission=sale, order=order, event_type=EventType.COMMISSION_REVERSED)


def _status(sale: Commission, order: Order, referral: Referral | None, *, canceled: bool) -> tuple[str, str]:
    if sale.amount_minor <= 0:
        reason = CANCELED_IN_HOLD if canceled else REFUNDED if referral else NOT_REFERRED
        return CommissionStatus.REVERSED, reason
    if sale.review == Review.REJECTED:
        return CommissionStatus.REVERSED, REJECTED
    if sale.review == Review.HELD:
        return CommissionStatus.HELD, HELD_BY_HAND
    reasons = fraud_reasons(referral, order) if sale.review != Review.RELEASED else []
    if reasons:
        return CommissionStatus.HELD, " ".join(reasons)
    approved = sale.status == CommissionStatus.APPROVED or sale.review == Review.APPROVED_EARLY
    if approved or timezone.now() >= sale.hold_until:
        return CommissionStatus.APPROVED, ""
    return CommissionStatus.PENDING, ""


def _clawback_sync(sale: Commission, rows: list[Commission], target: int, order: Order) -> None:
    """What was paid (the sale and the clawbacks already in a payout) against what the order earns now:
    a shortfall is one open clawback, deducted from the partner's next payout."""
    settled = sale.amount_minor + sum(r.amount_minor for r in rows if r.kind == CommissionKind.CLAWBACK and r.payout_id)
    open_clawback = next((r for r in rows if r.kind == CommissionKind.CLAWBACK and r.payout_id is None), None)
    owed = target - settled
    if owed >= 0:
        if open_clawback is not None:
            open_clawback.delete()
        return
    if open_clawback is None:
        open_clawback = Commission(
            workspace_id=sale.workspace_id,
            program_id=sale.program_id,
            partner_id=sale.partner_id,
            order_id=sale.order_id,
            kind=CommissionKind.CLAWBACK,
            currency=sale.currency,
            full_minor=0,
            referred_by=sale.referred_by,
            hold_until=timezone.now(),
        )
    created = open_clawback.pk is None
    open_clawback.amount_minor = owed
    open_clawback.status, open_clawback.reason = CommissionStatus.APPROVED, "Refund after payout."
    open_clawback.save()
    if created:
        commission_told(commission=open_clawback, order=order, event_type=EventType.COMMISSION_REVERSED)


# What the hourly pass looks back over for ledger changes attribution does not report (see below).
SWEEP_LOOKBACK = timedelta(hours=3)


def commissions_mature() -> int:
    """Hourly, from the ledger's own state, for what "attribution changed" does not carry: every pending
    commission is derived again (approved once its hold passed; reversed when its subscription was canceled
    inside the hold), and so is every recently changed order that used a discount code and earns nothing
    yet (a processor may name the code only in a later state of the order). Returns how many it derived."""
    pending = Commission.objects.filter(status=CommissionStatus.PENDING, kind=CommissionKind.SALE)
    coded = (
        Order.objects.filter(
            workspace_id__in=Program.objects.values("workspace_id"),
            updated_at__gte=timezone.now() - SWEEP_LOOKBACK,
        )
        .exclude(discount_codes=[])
        .exclude(pk__in=Commission.objects.values("order_id"))
    )
    order_ids = set(pending.values_list("order_id", flat=True)) | set(coded.values_list("pk", flat=True))
    for order_id in sorted(order_ids):
        order_commissions_sync(order_id=order_id)
    return len(order_ids)


@transaction.atomic
def commission_review(*, commission: Commission, review: str) -> Commission:
    """A person's decision: release from hold, reject, hold by hand or approve before the hold ends."""
    commission = Commission.objects.select_for_update().get(pk=commission.pk)
    if commission.kind != CommissionKind.SALE or commission.payout_id is not None:
        raise ApplicationError("Only an unpaid sale commission can be reviewed.")
    commission.review = review
    commission.save(update_fields=["review", "updated_at"])
    order_commissions_sync(order_id=commission.order_id)
    commission.refresh_from_db()
    return commission
