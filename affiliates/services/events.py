"""The affiliate program's outbound webhooks: `commission.created`, `commission.reversed` (a sale commission
reversed, or a clawback of one already paid) and `payout.paid`, each told once whatever re-derives it."""

from affiliates.models import Commission, Payout
from integrations.models import EventType, Order
from integrations.services.outbound_webhooks import event_emit
from trackrev.common.money import money_format


def _commission_data(commission: Commission, order: Order) -> dict:
    return {
        "commission_id": commission.pk,
        "partner": commission.partner.public_id,
        "partner_name": commission.partner.name,
        "order_id": order.pk,
        "source": order.processor,
        "kind": commission.kind,
        "amount": money_format(commission.amount_minor, commission.currency),
        "currency": commission.currency,
        "status": commission.status,
        "reason": commission.reason,
        "referred_by": commission.referred_by,
    }


def commission_told(*, commission: Commission, order: Order, event_type: str) -> None:
    event_emit(
        workspace_id=commission.workspace_id,
        event_type=event_type,
        subject=f"commission:{commission.pk}",
        dedupe_key=f"{event_type}:{commission.pk}",
        data=_commission_data(commission, order),
    )


def payout_paid_told(*, payout: Payout) -> None:
    event_emit(
        workspace_id=payout.workspace_id,
        event_type=EventType.PAYOUT_PAID,
        subject=f"payout:{payout.pk}",
        dedupe_key=f"payout.paid:{payout.pk}",
        data={
            "payout_id": payout.pk,
            "partner": payout.partner.public_id,
            "partner_name": payout.partner.name,
            "period": f"{payout.period:%Y-%m}",
            "amount": money_format(payout.amount_minor, payout.currency),
            "currency": payout.currency,
            "method": payout.method,
            "reference": payout.reference,
            "paid_at": payout.paid_at.isoformat().replace("+00:00", "Z"),
            "commissions": sorted(payout.commissions.values_list("pk", flat=True)),
        },
    )
