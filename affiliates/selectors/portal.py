"""What the partner portal reads. Every function takes the current `Partner` and filters by it, so a
partner never reaches another's rows, whatever id a URL carries."""

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Concat, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from affiliates.models import (
    Commission,
    CommissionKind,
    CommissionStatus,
    Partner,
    PartnerAccount,
    PartnerStatus,
    Payout,
)
from affiliates.services.partners import partner_link
from affiliates.services.payouts import customer_masked
from attribution.selectors.reports import DayRevenue

CHART_DAYS = 30
COMMISSIONS_PER_PAGE = 25
# A reason is shown only where it explains why a commission does not (yet) earn.
REASON_SHOWN = {CommissionStatus.HELD, CommissionStatus.REVERSED}

# One buyer across orders: the keyed email digest, else the processor's customer, else the order alone.
_BUYER = Case(
    When(~Q(order__customer_email_digest=""), then=Concat(Value("e:"), "order__customer_email_digest")),
    When(order__customer__isnull=False, then=Concat(Value("c:"), Cast("order__customer_id", CharField()))),
    default=Concat(Value("o:"), Cast("order_id", CharField())),
    output_field=CharField(),
)
_SALE = Q(kind=CommissionKind.SALE)


def partnerships(account: PartnerAccount) -> QuerySet[Partner]:
    """The programs an account may open the portal for: approved, or suspended (read-only history)."""
    return (
        Partner.objects.filter(account=account, status__in=[PartnerStatus.APPROVED, PartnerStatus.SUSPENDED])
        .select_related("program")
        .order_by("program__name", "pk")
    )


@dataclass(frozen=True)
class Dashboard:
    currency: str
    clicks: int
    customers: int
    conversions: int
    pending_minor: int
    approved_minor: int
    paid_minor: int
    # The last CHART_DAYS days: earnings (in `revenue_usd_minor`, the chart's field, here in the program's
    # currency) and conversions (`orders`) per day, for attribution.charts.revenue_chart.
    days: list[DayRevenue]


def partner_dashboard(*, partner: Partner, today: dt.date | None = None) -> Dashboard:
    rows = Commission.objects.filter(partner=partner)
    earning = ~Q(status=CommissionStatus.REVERSED)
    totals = rows.aggregate(
        customers=Count(_BUYER, distinct=True, filter=_SALE),
        conversions=Count("pk", filter=_SALE & earning),
        pending_minor=Sum("amount_minor", filter=Q(status=CommissionStatus.PENDING), default=0),
        approved_minor=Sum("amount_minor", filter=Q(status=CommissionStatus.APPROVED), default=0),
        paid_minor=Sum("amount_minor", filter=Q(status=CommissionStatus.PAID), default=0),
    )
    return Dashboard(
        currency=partner.program.currency,
        clicks=partner.clicks.count(),
        days=_days(rows.filter(earning), today or timezone.localdate()),
        **totals,
    )


def _days(rows: QuerySet[Commission], today: dt.date) -> list[DayRevenue]:
    first = today - dt.timedelta(days=CHART_DAYS - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    per_day = {
        row["day"]: row
        for row in rows.filter(order__placed_at__gte=since)
        .annotate(day=TruncDate("order__placed_at"))
        .values("day")
        .annotate(earned=Sum("amount_minor"), conversions=Count("pk", filter=_SALE))
        .order_by()
    }
    days = [first + dt.timedelta(days=i) for i in range(CHART_DAYS)]
    return [
        DayRevenue(day, per_day.get(day, {}).get("earned", 0), per_day.get(day, {}).get("conversions", 0))
        for day in days
    ]


@dataclass(frozen=True)
class LinkRow:
    name: str  # "" for the main link
    url: str
    lands_on: str

    @property
    def dom_id(self) -> str:
        return f"link-{self.name or 'main'}"


def partner_links(partner: Partner) -> list[LinkRow]:
    """The main link first, then the extra ones by name."""
    main = LinkRow("", partner_link(partner), partner.program.destination_url)
    return [main, *(LinkRow(link.slug, partner_link(partner, link.slug), link.url) for link in partner.links.all())]


def partner_discount_codes(partner: Partner) -> list[str]:
    return list(partner.discount_codes.values_list("code", flat=True))


@dataclass(frozen=True)
class CommissionRow:
    created_at: dt.datetime
    placed_at: dt.datetime
    customer: str  # masked: a partner never learns who bought
    kind: str
    amount_minor: int
    currency: str
    status: str
    status_label: str
    reason: str


def partner_commission_page(*, partner: Partner, status: str = "", page: str | int = 1) -> Page:
    """One page of the partner's commissions, newest first, as CommissionRow."""
    rows = Commission.objects.filter(partner=partner).select_related("order").order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    result = Paginator(rows, COMMISSIONS_PER_PAGE).get_page(page)
    result.object_list = [
        CommissionRow(
            created_at=row.created_at,
            placed_at=row.order.placed_at,
            customer=customer_masked(row.order),
            kind=row.get_kind_display(),
            amount_minor=row.amount_minor,
            currency=row.currency,
            status=row.status,
            status_label=row.get_status_display(),
            reason=row.reason if row.status in REASON_SHOWN else "",
        )
        for row in result.object_list
    ]
    return result


def partner_payouts(partner: Partner) -> QuerySet[Payout]:
    return Payout.objects.filter(partner=partner).order_by("-period", "-pk")


def partner_payout_get(*, partner: Partner, pk: int) -> Payout:
    """404 for a payout of anyone else."""
    return get_object_or_404(Payout, partner=partner, pk=pk)
