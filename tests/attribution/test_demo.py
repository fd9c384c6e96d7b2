"""The demo month behind `make run`: generated through the pixel and ledger services, then credited."""

import pytest
from django.db.models import Sum

from attribution.models import AttributionState, Credit, DailyRollup, Identity, Touch
from integrations.models import Order, Refund
from trackrev.workspaces.demo import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_seed_fills_a_living_dashboard(settings):
    assert "attribution.demo.seed_demo_month" in settings.DEMO_SEEDERS
    assert settings.DEMO_SEEDERS.index("integrations.demo.fx_seed") < settings.DEMO_SEEDERS.index(
        "attribution.demo.seed_demo_month"
    )
    workspace = demo_seed().workspace
    orders = Order.objects.filter(workspace=workspace)
    channels = set(Touch.objects.filter(workspace=workspace).values_list("channel", flat=True))
    assert {"Newsletter", "Facebook", "YouTube", "Google", "Direct", "ChatGPT"} <= channels
    assert "Affiliates" in set(Touch.objects.filter(workspace=workspace).values_list("channel_group", flat=True))
    assert set(orders.values_list("processor", flat=True)) == {"polar", "stripe", "paddle", "lemonsqueezy"}
    assert set(orders.values_list("kind", flat=True)) == {"one_time", "subscription_create", "renewal"}
    assert {"EUR", "GBP", "USD"} <= set(orders.values_list("currency", flat=True))
    assert set(orders.values_list("matched_by", flat=True)) == {"metadata", "subscription", "email", "none"}
    assert Identity.objects.filter(workspace=workspace).exists()
    assert Refund.objects.filter(workspace=workspace).count() == 2
    assert not orders.filter(amount_usd_minor__isnull=True).exists()  # FX rates from the bundled ECB history
    # Every paid order is credited in every model, and the rollups hold exactly the credits.
    version = AttributionState.objects.get(workspace=workspace).version
    net = sum((o.amount_usd_minor - (o.refunded_usd_minor or 0)) for o in orders)
    for model in ("last_touch", "linear", "time_decay"):
        assert (
            Credit.objects.filter(order__workspace=workspace, model=model).values("order").distinct().count()
            == orders.count()
        )
        rollup = DailyRollup.objects.filter(workspace=workspace, version=version, model=model)
        assert rollup.aggregate(r=Sum("revenue_usd_minor"))["r"] == net
    assert DailyRollup.objects.filter(workspace=workspace, channel="Unattributed").exists()
