"""Factories for affiliate rows written directly (the engine's own suite drives it through real orders)."""

from datetime import timedelta
from decimal import Decimal

import factory

from affiliates.models import (
    Commission,
    DiscountCode,
    Partner,
    PartnerAccount,
    Payout,
    PayoutBatch,
    Program,
)
from tests.factories.engine import T0, OrderFactory
from tests.factories.workspaces import WorkspaceFactory


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    workspace = factory.SubFactory(WorkspaceFactory, plan="pro")
    name = factory.Sequence(lambda n: f"Program {n}")
    commission_type = "percent"
    commission_value = Decimal("20")
    recurring = "lifetime"
    cookie_days = 60
    hold_days = 30
    currency = "USD"
    destination_url = "https://shop.example.com/"


class PartnerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerAccount
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"partner{n}@partners.example")
    name = factory.Sequence(lambda n: f"Partner {n}")
    password = factory.django.Password("partner-horse-battery")


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    program = factory.SubFactory(ProgramFactory)
    workspace = factory.SelfAttribute("program.workspace")
    account = factory.SubFactory(PartnerAccountFactory)
    name = factory.SelfAttribute("account.name")
    email = factory.SelfAttribute("account.email")
    code = factory.Sequence(lambda n: f"partner-{n}")
    status = "approved"
    payout_method = "manual"


class DiscountCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiscountCode

    partner = factory.SubFactory(PartnerFactory)
    workspace = factory.SelfAttribute("partner.workspace")
    code = factory.Sequence(lambda n: f"save{n}")


class CommissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commission

    partner = factory.SubFactory(PartnerFactory)
    program = factory.SelfAttribute("partner.program")
    workspace = factory.SelfAttribute("partner.workspace")
    order = factory.SubFactory(OrderFactory, workspace=factory.SelfAttribute("..workspace"))
    kind = "sale"
    status = "pending"
    currency = "USD"
    full_minor = 980
    amount_minor = factory.SelfAttribute("full_minor")
    referred_by = "link"
    hold_until = T0 + timedelta(days=30)


class PayoutBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayoutBatch

    program = factory.SubFactory(ProgramFactory)
    workspace = factory.SelfAttribute("program.workspace")
    period = T0.date().replace(day=1)
    method = "manual"


class PayoutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payout

    partner = factory.SubFactory(PartnerFactory)
    batch = factory.SubFactory(
        PayoutBatchFactory, program=factory.SelfAttribute("..partner.program"), method=factory.SelfAttribute("..method")
    )
    workspace = factory.SelfAttribute("partner.workspace")
    period = factory.SelfAttribute("batch.period")
    method = "manual"
    amount_minor = 980
    currency = "USD"
