"""Programs: Pro plan only."""

from django.db import transaction

from affiliates.models import Program, Recurring
from trackrev.common.errors import ApplicationError
from trackrev.workspaces.models import Plan, Workspace

PROGRAM_FIELDS = (
    "name",
    "commission_type",
    "commission_value",
    "recurring",
    "recurring_months",
    "cookie_days",
    "hold_days",
    "minimum_payout_minor",
    "currency",
    "destination_url",
    "applications_open",
    "terms",
    "reverse_on_cancel",
)


class PlanRequired(ApplicationError):
    """Affiliate programs are a Pro feature (the API answers 402)."""


PRO_REQUIRED = "Affiliate programs are part of the Pro plan. Upgrade this workspace to Pro to run one."


def affiliates_allowed(workspace: Workspace) -> bool:
    return workspace.plan == Plan.PRO


def _validate(program: Program) -> None:
    if program.recurring == Recurring.MONTHS and not program.recurring_months:
        raise ApplicationError("Say for how many months orders earn commissions (recurring_months).")
    if program.recurring != Recurring.MONTHS:
        program.recurring_months = None
    program.currency = program.currency.upper()
    program.full_clean()


@transaction.atomic
def program_create(*, workspace: Workspace, **data) -> Program:
    if not affiliates_allowed(workspace):
        raise PlanRequired(PRO_REQUIRED)
    program = Program(workspace=workspace, **{k: v for k, v in data.items() if k in PROGRAM_FIELDS})
    _validate(program)
    program.save()
    return program


@transaction.atomic
def program_update(*, program: Program, data: dict) -> Program:
    """Changes apply to commissions created from now on: one already earned keeps its amount."""
    for name, value in data.items():
        if name in PROGRAM_FIELDS:
            setattr(program, name, value)
    _validate(program)
    program.save()
    return program
