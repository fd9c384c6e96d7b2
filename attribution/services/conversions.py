"""The ORDER_CONSUMERS entry of attribution: match by email when nothing else matched, then credit;
and the same for orders that an identity bound later concerns."""

from django.db import transaction
from django.db.models import Q

from attribution.models import Identity, IdentitySource
from attribution.services.credits import attribution_state_get, order_credits_refresh
from integrations.models import MatchedBy, Order
from integrations.services.ledger import order_match_visitor
from trackrev.workspaces.models import Workspace


def email_identity(order: Order) -> Identity | None:
    """The binding an email fallback follows for an order the checkout tied to no visitor: one made
    by the customer's backend before one made by a browser; within each, the visitor who identified
    most recently before the purchase, else the first one after it."""
    identities = Identity.objects.filter(workspace_id=order.workspace_id, email_digest=order.customer_email_digest)
    for source in (IdentitySource.SERVER, IdentitySource.BROWSER):
        of_source = identities.filter(source=source)
        identity = (
            of_source.filter(created_at__lte=order.placed_at).order_by("-created_at", "-id").first()
            or of_source.order_by("created_at", "id").first()
        )
        if identity is not None:
            return identity
    return None


def conversion_record(*, order_id: int) -> None:
    """Match the order to a visitor through a bound email (the last step of ARCHITECTURE decision 7:
    integrations cannot read identities) when nothing stronger matched it, then recompute its credits."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    if order.matched_by in (MatchedBy.NONE, MatchedBy.EMAIL) and order.customer_email_digest:
        identity = email_identity(order)
        if identity is not None and identity.visitor_id != order.visitor_id:
            order_match_visitor(order=order, visitor_id=identity.visitor_id, matched_by=MatchedBy.EMAIL)
    order_credits_refresh(order_id=order.pk)


@transaction.atomic
def identities_apply(*, workspace: Workspace) -> int:
    """Identities bound since the last run (identify() often fires after the checkout's webhook): the
    orders they concern get the email match or the newly stitched touches. Returns how many orders."""
    state = attribution_state_get(workspace=workspace, lock=True)
    fresh = list(
        Identity.objects.filter(workspace=workspace, pk__gt=state.identities_through).values_list("pk", "email_digest")
    )
    if not fresh:
        return 0
    digests = {digest for _, digest in fresh}
    people = Identity.objects.filter(workspace=workspace, email_digest__in=digests).values("visitor_id")
    orders = list(
        Order.objects.filter(workspace=workspace)
        .filter(Q(customer_email_digest__in=digests) | Q(visitor_id__in=people))
        .values_list("pk", flat=True)
    )
    for order_id in orders:
        conversion_record(order_id=order_id)
    state.identities_through = max(pk for pk, _ in fresh)
    state.save(update_fields=["identities_through"])
    return len(orders)
