"""The demo workspace's affiliate program (settings.DEMO_SEEDERS). `seed_demo_program` runs before the
month of traffic, so the demo's `via=alice` landings are partner touches and her referred sales earn
commissions through the real engine; `seed_demo_payouts` runs after it: approvals, a paid payout, a
clawback, a held and a reversed commission, clicks and a pending application."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from affiliates.models import (
    Click,
    Commission,
    CommissionKind,
    CommissionStatus,
    Partner,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Review,
)
from affiliates.services.clicks import ip_digest
from affiliates.services.commissions import commission_review, commissions_mature
from affiliates.services.partners import discount_code_add, partner_create
from affiliates.services.payouts import payout_paid
from affiliates.services.programs import program_create
from trackrev.workspaces.models import Workspace


def seed_demo_program(*, workspace: Workspace) -> None:
    program = program_create(
        workspace=workspace,
        name="Demo SaaS partners",
        commission_type="percent",
        commission_value=Decimal("20"),
        recurring="lifetime",
        cookie_days=60,
        hold_days=14,
        minimum_payout_minor=2000,
        currency="USD",
        destination_url="https://demo-saas.test/",
        applications_open=True,
        terms="20 % of every payment for the customer's lifetime. Paid monthly once above USD 20.00.",
    )
    alice = partner_create(
        program=program,
        email="alice@alice-writes.test",
        name="Alice Writes",
        code="alice",
        payout_method="paypal",
        payout_details={"paypal_email": "alice@alice-writes.test"},
    )
    bob = partner_create(program=program, email="bob@indieweekly.test", name="Indie Weekly", code="bob")
    discount_code_add(partner=bob, code="INDIE20")
    partner_create(
        program=program,
        email="carol@carolcodes.test",
        name="Carol Codes",
        status="pending",
        application_note="I review dev tools on YouTube (12k subscribers).",
    )
    rng, now = random.Random(14), timezone.now()  # demo data, not secrets
    clicks = []
    for n in range(140):
        at = now - timedelta(days=rng.randrange(60), minutes=rng.randrange(1440))
        clicks.append(
            Click(
                workspace=workspace,
                partner=alice if n % 5 else bob,
                ip_digest=ip_digest(f"198.51.100.{n}"),
                hour=at.replace(minute=0, second=0, microsecond=0),
                occurred_at=at,
            )
        )
    Click.objects.bulk_create(clicks)


def seed_demo_payouts(*, workspace: Workspace) -> None:
    """Last month paid out (one payout marked paid), a refund after it clawed back, one held, one rejected."""
    commissions_mature()
    sales = Commission.objects.filter(workspace=workspace, kind=CommissionKind.SALE)
    approved = list(sales.filter(status=CommissionStatus.APPROVED).order_by("hold_until"))
    pending = list(sales.filter(status=CommissionStatus.PENDING).order_by("hold_until"))
    if len(pending) >= 2:
        commission_review(commission=pending[0], review=Review.HELD)
        commission_review(commission=pending[1], review=Review.REJECTED)
    if approved:
        _paid_payout(workspace, approved[: max(1, len(approved) // 2)])


def _paid_payout(workspace: Workspace, commissions: list[Commission]) -> None:
    partner: Partner = commissions[0].partner
    mine = [c for c in commissions if c.partner_id == partner.pk]
    period = min(c.hold_until for c in mine).date().replace(day=1)
    batch = PayoutBatch.objects.create(
        workspace=workspace,
        program=partner.program,
        period=period,
        method=partner.payout_method,
        status=PayoutStatus.PROCESSING,
        reference="DEMO5UXD2E8A7EBQJ",
    )
    payout = Payout.objects.create(
        workspace=workspace,
        batch=batch,
        partner=partner,
        period=period,
        method=partner.payout_method,
        amount_minor=sum(c.amount_minor for c in mine),
        currency=partner.program.currency,
        status=PayoutStatus.PROCESSING,
    )
    Commission.objects.filter(pk__in=[c.pk for c in mine]).update(payout=payout)
    payout_paid(payout=payout, reference="DEMO9MYSR9GT8AEUG")
    Commission.objects.create(
        workspace=workspace,
        program=partner.program,
        partner=partner,
        order=mine[0].order,
        kind=CommissionKind.CLAWBACK,
        status=CommissionStatus.APPROVED,
        reason="Refund after payout.",
        currency=mine[0].currency,
        full_minor=0,
        amount_minor=-mine[0].amount_minor,
        referred_by=mine[0].referred_by,
        hold_until=timezone.now(),
    )
