"""Reads that serve the workspace's API key: every one scoped by the workspace."""

from django.db.models import QuerySet

from affiliates.models import Commission, Partner, Payout, Program
from trackrev.workspaces.models import Workspace


def program_list(*, workspace: Workspace) -> QuerySet[Program]:
    return Program.objects.filter(workspace=workspace)


def program_get(*, workspace: Workspace, public_id: str) -> Program | None:
    return Program.objects.filter(workspace=workspace, public_id=public_id).first()


def partner_list(*, workspace: Workspace, program: str = "", status: str = "") -> QuerySet[Partner]:
    partners = Partner.objects.filter(workspace=workspace).select_related("program")
    if program:
        partners = partners.filter(program__public_id=program)
    if status:
        partners = partners.filter(status=status)
    return partners


def partner_get(*, workspace: Workspace, public_id: str) -> Partner | None:
    return Partner.objects.filter(workspace=workspace, public_id=public_id).select_related("program").first()


def commission_list(*, workspace: Workspace, partner: str = "", status: str = "") -> QuerySet[Commission]:
    rows = Commission.objects.filter(workspace=workspace).select_related("partner")
    if partner:
        rows = rows.filter(partner__public_id=partner)
    if status:
        rows = rows.filter(status=status)
    return rows


def payout_list(*, workspace: Workspace) -> QuerySet[Payout]:
    return Payout.objects.filter(workspace=workspace).select_related("partner")


def payout_get(*, workspace: Workspace, payout_id: int) -> Payout | None:
    return Payout.objects.filter(workspace=workspace, pk=payout_id).select_related("partner").first()
