"""The ORDER_CONSUMERS entry of attribution: match by email when nothing else matched, then credit."""

from attribution.models import Identity
from attribution.services.credits import order_credits_refresh
from integrations.models import MatchedBy, Order
from integrations.services.ledger import order_match_visitor


def conversion_record(*, order_id: int) -> None:
    """Match the order to a visitor through an email bound by `identify()` (the last step of
    ARCHITECTURE decision 7: integrations cannot read identities), then recompute its credits."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    if not order.visitor_id and order.customer_email_digest:
        identities = Identity.objects.filter(workspace_id=order.workspace_id, email_digest=order.customer_email_digest)
        # The visitor who identified most recently before the purchase, else the first one after it.
        identity = (
            identities.filter(created_at__lte=order.placed_at).order_by("-created_at", "-id").first()
            or identities.order_by("created_at", "id").first()
        )
        if identity is not None:
            order_match_visitor(order=order, visitor_id=identity.visitor_id, matched_by=MatchedBy.EMAIL)
    order_credits_refresh(order_id=order.pk)
