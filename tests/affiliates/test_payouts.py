"""Monthly payouts: the month's approved commissions per partner, under the program's minimum carried
forward to a later month, suspended partners skipped, nothing paid twice."""

import datetime as dt

import pytest
import time_machine

from affiliates.models import Commission
from affiliates.services.payouts import payouts_create, payouts_monthly
from tests.factories.affiliates import CommissionFactory, PartnerFactory

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def approved(partner, amount: int, *, hold_ended: dt.datetime) -> Commission:
    commission = CommissionFactory(partner=partner, status="approved", amount_minor=amount)
    Commission.objects.filter(pk=commission.pk).update(hold_until=hold_ended)
    return commission


def test_a_total_under_the_minimum_waits_for_a_later_month(program, partner):
    program.minimum_payout_minor = 5000
    program.save()
    approved(partner, 3000, hold_ended=dt.datetime(2026, 10, 10, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC), tick=False):
        assert payouts_create(workspace=program.workspace, period=OCTOBER) == []
    approved(partner, 2500, hold_ended=dt.datetime(2026, 11, 12, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC), tick=False):
        (payout,) = payouts_create(workspace=program.workspace, period=NOVEMBER)
    assert (payout.amount_minor, payout.commissions.count()) == (5500, 2)


def test_the_monthly_job_pays_the_month_before_once_and_skips_suspended_partners(program, partner):
    suspended = PartnerFactory(program=program, status="suspended")
    hold_ended = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    approved(partner, 1200, hold_ended=hold_ended)
    approved(suspended, 900, hold_ended=hold_ended)
    approved(partner, 700, hold_ended=dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC))  # December's
    with time_machine.travel(dt.datetime(2026, 12, 1, 6, 5, tzinfo=dt.UTC), tick=False):
        assert payouts_monthly() == 1
        assert payouts_monthly() == 1  # the same payout, not a second one
    (payout,) = partner.payouts.all()
    assert (payout.period, payout.amount_minor) == (NOVEMBER, 1200)
    assert not suspended.payouts.exists()
