"""USD amounts at the ECB reference rate of the order's date (last published rate on or before it)."""

import datetime as dt
from decimal import Decimal

import requests
from django.db import transaction

from integrations import ecb
from integrations.models import ExchangeRate, Order
from integrations.processors.errors import ProcessorUnavailable
from integrations.services.consumers import order_consumers_notify
from trackrev.common.money import decimal_to_minor, minor_to_decimal

EURO = "EUR"
USD = "USD"


def fx_rate_per_eur(*, currency: str, on: dt.date) -> Decimal | None:
    if currency == EURO:
        return Decimal(1)
    return (
        ExchangeRate.objects.filter(currency=currency, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )


def fx_convert_minor(*, amount_minor: int, currency: str, to: str, on: dt.date) -> int | None:
    """Convert through EUR at the ECB rates of `on`: amount / rate(currency) * rate(to). None when a rate is
    missing."""
    currency, to = currency.upper(), to.upper()
    if currency == to:
        return amount_minor
    source_rate = fx_rate_per_eur(currency=currency, on=on)
    target_rate = fx_rate_per_eur(currency=to, on=on)
    if not source_rate or not target_rate:
        return None
    return decimal_to_minor(minor_to_decimal(amount_minor, currency) / source_rate * target_rate, to)


def fx_to_usd_minor(*, amount_minor: int, currency: str, on: dt.date) -> int | None:
    return fx_convert_minor(amount_minor=amount_minor, currency=currency, to=USD, on=on)


def order_fx_apply(order: Order) -> bool:
    """Set the order's USD amounts (in memory); returns whether they changed."""
    on = order.placed_at.date()
    before = (order.amount_usd_minor, order.refunded_usd_minor)
    order.amount_usd_minor = fx_to_usd_minor(amount_minor=order.amount_minor, currency=order.currency, on=on)
    order.refunded_usd_minor = fx_to_usd_minor(amount_minor=order.refunded_minor, currency=order.currency, on=on)
    return before != (order.amount_usd_minor, order.refunded_usd_minor)


def fx_orders_convert_pending() -> int:
    """Convert orders stored while their rate was missing; consumers hear about each one."""
    converted = 0
    pending = Order.objects.filter(amount_usd_minor__isnull=True).order_by("pk").values_list("pk", flat=True)
    for order_id in pending.iterator():
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.amount_usd_minor is None and order_fx_apply(order) and order.amount_usd_minor is not None:
                order.save(update_fields=["amount_usd_minor", "refunded_usd_minor", "updated_at"])
                order_consumers_notify(order_id=order.pk)
                converted += 1
    return converted


def fx_rates_store(*, rates) -> int:
    """Upsert (date, currency, rate) triples; returns how many were stored. Converts waiting orders."""
    batch = [ExchangeRate(date=date, currency=currency, rate=rate) for date, currency, rate in rates]
    with transaction.atomic():
        for start in range(0, len(batch), 2000):
            ExchangeRate.objects.bulk_create(
                batch[start : start + 2000],
                update_conflicts=True,
                unique_fields=["currency", "date"],
                update_fields=["rate"],
            )
    fx_orders_convert_pending()
    return len(batch)


def fx_import_bytes(*, data: bytes, since: dt.date | None = None) -> int:
    rates = ecb.parse_any(data)
    if since is not None:
        rates = (rate for rate in rates if rate[0] >= since)
    return fx_rates_store(rates=rates)


def fx_fetch_daily() -> int:
    """Fetch and store the ECB daily file (published around 16:00 CET on TARGET business days)."""
    try:
        response = requests.get(ecb.DAILY_URL, timeout=(5, 30))
        response.raise_for_status()
    except requests.RequestException as exc:
        raise ProcessorUnavailable(f"ECB daily rates unavailable: {exc}") from exc
    return fx_import_bytes(data=response.content)
