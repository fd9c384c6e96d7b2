"""What the workspace's affiliate pages and API read. Every read filters by the workspace, so another
workspace's program, partner, commission or payout id finds nothing (the page or API answers 404). Pages
name objects by primary key, the API by public id (`prg_…`, `prt_…`)."""

import datetime as dt

from django.db.models import BigIntegerField, Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from affiliates.models import (
    Click,
    Commission,
    CommissionStatus,
    Partner,
    PartnerStatus,
    Payout,
    PayoutBatch,
    PayoutMethod,
    PayoutSettings,
    Program,
)
from trackrev.workspaces.models import Workspace


def _per_row(rows: QuerySet, key: str, aggregate) -> Coalesce:
    """A correlated count or sum per outer row: separate subqueries never multiply each other's joins."""
    values = rows.filter(**{key: OuterRef("pk")}).order_by().values(key).annotate(value=aggregate).values("value")
    return Coalesce(Subquery(values, output_field=BigIntegerField()), 0, output_field=BigIntegerField())


def program_list(*, workspace: Workspace) -> QuerySet[Program]:
    partners = Partner.objects.filter(workspace=workspace)
    commissions = Commission.objects.filter(workspace=workspace)
    return Program.objects.filter(workspace=workspace).annotate(
        partners_count=_per_row(partners.filter(status=PartnerStatus.APPROVED), "program", Count("pk")),
        applications_count=_per_row(partners.filter(status=PartnerStatus.PENDING), "program", Count("pk")),
        pending_minor=_per_row(commissions.filter(status=CommissionStatus.PENDING), "program", Sum("amount_minor")),
        approved_minor=_per_row(commissions.filter(status=CommissionStatus.APPROVED), "program", Sum("amount_minor")),
    )


def program_get(*, workspace: Workspace, program_id: int) -> Program | None:
    return Program.objects.filter(workspace=workspace, pk=program_id).first()


def program_find(*, workspace: Workspace, public_id: str) -> Program | None:
    return Program.objects.filter(workspace=workspace, public_id=public_id).first()


def partner_list(*, program: Program) -> QuerySet[Partner]:
    """The program's partners with their clicks and commissions counted, and their discount codes."""
    return (
        Partner.objects.filter(workspace_id=program.workspace_id, program=program)
        .annotate(
            clicks_count=_per_row(Click.objects.all(), "partner", Count("pk")),
            commissions_count=_per_row(Commission.objects.all(), "partner", Count("pk")),
        )
        .prefetch_related("discount_codes")
    )


def partner_choices(*, workspace: Workspace) -> QuerySet[Partner]:
    return Partner.objects.filter(workspace=workspace).exclude(status=PartnerStatus.PENDING)


def partner_get(*, workspace: Workspace, partner_id: int) -> Partner | None:
    return Partner.objects.filter(workspace=workspace, pk=partner_id).select_related("program").first()


def partner_find(*, workspace: Workspace, public_id: str) -> Partner | None:
    return Partner.objects.filter(workspace=workspace, public_id=public_id).select_related("program").first()


def partner_search(*, workspace: Workspace, program: str = "", status: str = "") -> QuerySet[Partner]:
    """The API's list: by the program's public id and the status, when given."""
    partners = Partner.objects.filter(workspace=workspace).select_related("program")
    if program:
        partners = partners.filter(program__public_id=program)
    return partners.filter(status=status) if status else partners


def commission_list(*, workspace: Workspace, filters: dict) -> QuerySet[Commission]:
    """Newest first; `filters` may hold a program, a partner and a status (blank ones are ignored)."""
    rows = Commission.objects.filter(workspace=workspace).select_related("partner", "program", "order")
    if filters.get("program"):
        rows = rows.filter(program=filters["program"])
    if filters.get("partner"):
        rows = rows.filter(partner=filters["partner"])
    if filters.get("partner_public_id"):
        rows = rows.filter(partner__public_id=filters["partner_public_id"])
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    return rows


def commission_get(*, workspace: Workspace, commission_id: int) -> Commission | None:
    return Commission.objects.filter(workspace=workspace, pk=commission_id).first()


def payout_list(*, workspace: Workspace) -> QuerySet[Payout]:
    return Payout.objects.filter(workspace=workspace).select_related("partner", "batch__program")


def payout_get(*, workspace: Workspace, payout_id: int) -> Payout | None:
    return Payout.objects.filter(workspace=workspace, pk=payout_id).select_related("partner").first()


def manual_payout_list(*, workspace: Workspace, period: dt.date) -> QuerySet[Payout]:
    """The month's manual transfers, the sheet the workspace pays from."""
    return payout_list(workspace=workspace).filter(period=period, method=PayoutMethod.MANUAL)


def payout_settings_get(*, workspace: Workspace) -> PayoutSettings | None:
    return PayoutSettings.objects.filter(workspace=workspace).first()


def payout_batch_get(*, workspace: Workspace, batch_id: int) -> PayoutBatch | None:
    return PayoutBatch.objects.filter(workspace=workspace, pk=batch_id).first()
