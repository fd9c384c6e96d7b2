"""One channels table across every processor: each connection's orders, recovered by its reconcile
against a local fake of its own API (real HTTP, real pagination), count under that processor's filter
at the native amounts its API states, and all processors' together without the filter."""

import contextlib
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from integrations.models import ExchangeRate, Order
from integrations.processors.registry import ADAPTERS
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.kits import kit
from tests.integrations.reconciling import reconcile_at

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=2)
# Each fake's ECB rates per EUR, every day of the window: what an order's currency converts at.
RATES = {"USD": "1.05", "GBP": "0.85", "JPY": "160", "EUR": "1"}


@pytest.fixture
def rates():
    days = [SINCE.date() + dt.timedelta(days=n) for n in range(-7, 4)]
    ExchangeRate.objects.bulk_create(
        ExchangeRate(date=day, currency=currency, rate=Decimal(rate))
        for day in days
        for currency, rate in RATES.items()
    )


def reconciled(workspace, key: str, base_url: str) -> None:
    connection = ProcessorConnectionFactory(
        workspace=workspace, processor=key, api_base_url=base_url, api_token="tok", webhook_secret=kit(key).secret
    )
    reconcile_at(NOW, connection)


def revenue(api_client, **params) -> Decimal:
    query = {"start": SINCE.date().isoformat(), "end": NOW.date().isoformat(), **params}
    body = api_client.get("/api/v1/reports/channels/", query).json()
    return Decimal(body["totals"]["revenue"])


def usd(orders) -> Decimal:
    return Decimal(sum(o.amount_usd_minor - (o.refunded_usd_minor or 0) for o in orders)) / 100


def test_each_processor_filter_shows_its_own_revenue_and_all_sum_without_it(
    api_client, workspace, rates, broker, committed
):
    native = {}
    with contextlib.ExitStack() as fakes, committed():
        for n, key in enumerate(sorted(ADAPTERS)):
            base_url, served = fakes.enter_context(kit(key).fake_api("tok", 12 + 5 * n, SINCE))
            reconciled(workspace, key, base_url)
            native[key] = Counter()
            for data in served:
                currency, amount = kit(key).native_amount(data)
                native[key][currency] += amount
    broker.run()  # attribution credits every order the polls brought

    orders = Order.objects.filter(workspace=workspace)
    assert not orders.filter(amount_usd_minor__isnull=True).exists()
    for key in ADAPTERS:
        mine = orders.filter(processor=key)
        assert mine.count() == 12 + 5 * sorted(ADAPTERS).index(key)
        ledger = Counter()
        for order in mine:
            ledger[order.currency] += order.amount_minor
        assert ledger == native[key]  # the native totals each processor's API states
        assert revenue(api_client, processor=key) == usd(mine) > 0
    assert revenue(api_client) == usd(orders) == sum(revenue(api_client, processor=key) for key in ADAPTERS)
