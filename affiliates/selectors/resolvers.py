"""What attribution asks of affiliates without importing it (settings.PARTNER_RESOLVER,
settings.ORDER_PARTNER_RESOLVER)."""

from affiliates.models import Commission, CommissionKind, Partner
from affiliates.services.referrals import REFERRING


def partner_name_for_code(*, workspace_id: int, code: str) -> str | None:
    """A landing's `via`/`ref` of one of the workspace's partners → the partner's name (the touch's channel)."""
    return (
        Partner.objects.filter(workspace_id=workspace_id, code=code.lower(), status__in=REFERRING)
        .values_list("name", flat=True)
        .first()
    )


def order_partners(*, workspace_id: int, order_ids: list[int]) -> dict[int, dict]:
    """Order id → who gets paid for it: `{"partner", "partner_id", "status", "amount_minor", "currency",
    "reason", "referred_by"}` (the sale commission; a clawback shows in its reason)."""
    rows = (
        Commission.objects.filter(workspace_id=workspace_id, order_id__in=order_ids, kind=CommissionKind.SALE)
        .select_related("partner")
        .order_by("pk")
    )
    return {
        row.order_id: {
            "partner": row.partner.name,
            "partner_id": row.partner.public_id,
            "status": row.status,
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "reason": row.reason or _reason(row),
            "referred_by": row.referred_by,
        }
        for row in rows
    }


def _reason(row: Commission) -> str:
    return "A discount code of the partner's was used." if row.referred_by == "code" else "Last partner link clicked."
