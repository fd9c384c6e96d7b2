"""The referral rule (contractual, apart from the marketing models): a customer belongs to the partner
whose code their first order used, else to the partner of the last partner touch inside that partner's
cookie window before the first order. Later orders of the customer follow the program's recurring
policy (affiliates/services/commissions.py)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max, QuerySet

from affiliates.models import DiscountCode, Partner, PartnerStatus, Program
from attribution.models import Identity, OrderAttribution, Touch
from attribution.services.journeys import stitched_visitors
from integrations.models import Order
from integrations.models.ledger import PAID_ORDER_STATUSES
from trackrev.common.emails import email_digest

# Partners whose links and codes still refer (a suspended partner's commissions are held).
REFERRING = (PartnerStatus.APPROVED, PartnerStatus.SUSPENDED)


class Via:
    LINK = "link"
    CODE = "code"


@dataclass(frozen=True)
class Referral:
    partner: Partner
    via: str
    first_order: Order
    visitors: frozenset[str]  # the buyer's visitors (the first order's, with those its backend stitched)


def buyer_orders(order: Order) -> QuerySet[Order]:
    """Every order of the order's buyer: the processor's customer, else the subscription, else itself."""
    if order.customer_id:
        return Order.objects.filter(customer_id=order.customer_id)
    if order.subscription_id:
        return Order.objects.filter(subscription_id=order.subscription_id)
    return Order.objects.filter(pk=order.pk)


def first_paid(orders: list[Order]) -> Order | None:
    paid = [o for o in orders if o.status in PAID_ORDER_STATUSES]
    return min(paid, key=lambda o: (o.placed_at, o.pk)) if paid else None


def referral_find(first: Order) -> Referral | None:
    visitors = frozenset(stitched_visitors(workspace=first.workspace, orders=[first])[first.pk])
    codes = [code.lower() for code in first.discount_codes or []]
    if codes:
        owned = (
            DiscountCode.objects.filter(workspace_id=first.workspace_id, code__in=codes)
            .filter(partner__status__in=REFERRING)
            .select_related("partner__program")
            .first()
        )
        if owned is not None:
            return Referral(owned.partner, Via.CODE, first, visitors)
    longest = Program.objects.filter(workspace_id=first.workspace_id).aggregate(days=Max("cookie_days"))["days"]
    if not visitors or not longest:
        return None
    touches = (
        Touch.objects.filter(
            workspace_id=first.workspace_id,
            visitor_id__in=visitors,
            occurred_at__lte=first.placed_at,
            occurred_at__gte=first.placed_at - timedelta(days=longest),
        )
        .exclude(partner_code="")
        .order_by("-occurred_at", "-pk")
        .values_list("partner_code", "occurred_at")
    )
    touches = list(touches)
    partners = {
        partner.code: partner
        for partner in Partner.objects.filter(
            workspace_id=first.workspace_id,
            code__in={code.lower() for code, _ in touches},
            status__in=REFERRING,
        ).select_related("program")
    }
    for code, occurred_at in touches:
        partner = partners.get(code.lower())
        if partner and occurred_at >= first.placed_at - timedelta(days=partner.program.cookie_days):
            return Referral(partner, Via.LINK, first, visitors)
    return None


def match_verified(order: Order) -> bool:
    """False when attribution found the buyer only through an email a browser bound."""
    verified = OrderAttribution.objects.filter(order=order).values_list("match_verified", flat=True).first()
    return verified is not False


def fraud_reasons(referral: Referral, order: Order) -> list[str]:
    """Why a commission must wait for a person: each reason a sentence shown to staff and the workspace."""
    partner, reasons = referral.partner, []
    partner_digest = email_digest(partner.email)
    if order.customer_email_digest and order.customer_email_digest == partner_digest:
        reasons.append("Self-referral: the customer's email is the partner's.")
    elif _shares_private_domain(partner.email, order.customer_email_domain):
        reasons.append("Self-referral: the customer's email shares the partner's own domain.")
    if referral.visitors and (
        Identity.objects.filter(
            workspace_id=order.workspace_id, email_digest=partner_digest, visitor_id__in=referral.visitors
        ).exists()
    ):
        reasons.append("Self-referral: the buyer's browser is the partner's own.")
    if referral.via == Via.LINK and not match_verified(order):
        reasons.append("Unverified identity: the buyer was matched only through an email a browser bound.")
    if partner.status == PartnerStatus.SUSPENDED:
        reasons.append("Partner suspended.")
    return reasons


# Mail providers anyone can sign up with: sharing one says nothing about who the customer is.
PUBLIC_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
    }
)


def _shares_private_domain(partner_email: str, customer_domain: str) -> bool:
    partner_domain = partner_email.rsplit("@", 1)[-1].strip().lower()
    return bool(customer_domain) and customer_domain == partner_domain and partner_domain not in PUBLIC_EMAIL_DOMAINS
