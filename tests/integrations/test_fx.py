"""ECB rates: every published file format, conversion through EUR on the order's date, late rates."""

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
import responses
from django.core.management import call_command

from integrations import ecb
from integrations.models import ExchangeRate, Order
from integrations.processors.polar import mapping
from integrations.services.fx import fx_fetch_daily, fx_to_usd_minor
from integrations.services.ledger import change_apply
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.polar import payload
from trackrev.common.money import currency_exponent, money_format

pytestmark = pytest.mark.django_db

# Shaped exactly like the ECB's files (whitespace, quotes, trailing commas and N/A included).
ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
{days}
\t</Cube>
</gesmes:Envelope>
"""
DAY = "\t\t<Cube time='{date}'>\n{rates}\n\t\t</Cube>"
RATE = "\t\t\t<Cube currency='{currency}' rate='{rate}'/>"

FRIDAY = dt.date(2026, 11, 20)
THURSDAY = dt.date(2026, 11, 19)
RATES = {
    FRIDAY: {"USD": "1.0832", "JPY": "162.34", "GBP": "0.86750", "ISK": "148.30"},
    THURSDAY: {"USD": "1.0790", "JPY": "161.90", "GBP": "0.86500", "ISK": "148.10"},
}


def xml_file(days: dict) -> bytes:
    blocks = [
        DAY.format(date=date.isoformat(), rates="\n".join(RATE.format(currency=c, rate=r) for c, r in rates.items()))
        for date, rates in sorted(days.items(), reverse=True)
    ]
    return ENVELOPE.format(days="\n".join(blocks)).encode()


def daily_csv(date: dt.date, rates: dict) -> bytes:
    header = "Date, " + ", ".join(rates) + ", \n"
    row = f"{date.day} {date.strftime('%B %Y')}, " + ", ".join(rates.values()) + ", \n"
    return (header + row).encode()


def hist_csv(days: dict) -> bytes:
    currencies = ["USD", "JPY", "CYP", "GBP", "ISK"]
    lines = ["Date," + ",".join(currencies) + ","]
    for date, rates in sorted(days.items(), reverse=True):
        lines.append(date.isoformat() + "," + ",".join(rates.get(c, "N/A") for c in currencies) + ",")
    return ("\n".join(lines) + "\n").encode()


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


FILES = {
    "eurofxref-daily.xml": (xml_file({FRIDAY: RATES[FRIDAY]}), 4),
    "eurofxref-hist-90d.xml": (xml_file(RATES), 8),
    "eurofxref-hist.xml": (xml_file(RATES), 8),
    "eurofxref.csv": (daily_csv(FRIDAY, RATES[FRIDAY]), 4),
    "eurofxref.zip": (zipped("eurofxref.csv", daily_csv(FRIDAY, RATES[FRIDAY])), 4),
    "eurofxref-hist.csv": (hist_csv(RATES), 8),
    "eurofxref-hist.zip": (zipped("eurofxref-hist.csv", hist_csv(RATES)), 8),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_fx_import_loads_every_ecb_format(tmp_path, capsys, name):
    data, expected = FILES[name]
    path = tmp_path / name
    path.write_bytes(data)

    call_command("fx_import", str(path))
    call_command("fx_import", str(path))  # idempotent

    assert ExchangeRate.objects.count() == expected
    assert ExchangeRate.objects.get(date=FRIDAY, currency="USD").rate == Decimal("1.0832")
    assert ExchangeRate.objects.get(date=FRIDAY, currency="JPY").rate == Decimal("162.34")
    assert f"Stored {expected} (date, currency) rates" in capsys.readouterr().out


def test_fx_import_rejects_other_files(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "rates.csv"
    path.write_text("currency,rate\nUSD,1.08\n")
    with pytest.raises(CommandError, match="not an ECB"):
        call_command("fx_import", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("fx_import", str(tmp_path / "missing.xml"))


def test_bundled_history_seeds_rates_without_network():
    from integrations.demo import fx_seed

    assert fx_seed() > 10_000
    assert ExchangeRate.objects.filter(currency="USD").exists()


@pytest.fixture
def rates():
    for date, values in RATES.items():
        for currency, rate in values.items():
            ExchangeRate.objects.create(date=date, currency=currency, rate=Decimal(rate))


def order(connection, *, currency: str, amount: int, created_at: str):
    body = payload(
        "order_created_purchase",
        id=f"order-{currency}-{amount}-{created_at}",
        currency=currency.lower(),
        net_amount=amount,
        created_at=created_at,
    )
    (change,) = mapping.event_from(body).changes
    return change_apply(connection=connection, change=change).obj


def test_eur_order_on_a_weekend_uses_fridays_rate(rates):
    saturday_order = order(
        ProcessorConnectionFactory(), currency="EUR", amount=10000, created_at="2026-11-21T10:00:00Z"
    )
    # 100.00 EUR * 1.0832 USD/EUR (Friday's rate; no rate is published on Saturday)
    assert saturday_order.amount_usd_minor == 10832


def test_jpy_has_no_minor_unit(rates):
    jpy = order(ProcessorConnectionFactory(), currency="JPY", amount=16234, created_at="2026-11-20T10:00:00Z")
    # ¥16,234 ÷ 162.34 JPY/EUR = 100 EUR → * 1.0832 = 108.32 USD
    assert jpy.amount_minor == 16234
    assert jpy.amount_usd_minor == 10832
    assert money_format(jpy.amount_minor, "JPY") == "16234"


def test_three_decimal_currency(rates):
    ExchangeRate.objects.create(date=FRIDAY, currency="KWD", rate=Decimal("0.3330"))
    assert currency_exponent("KWD") == 3
    # 33.300 KWD (33300 fils) ÷ 0.333 = 100 EUR → 108.32 USD
    assert fx_to_usd_minor(amount_minor=33300, currency="KWD", on=FRIDAY) == 10832
    assert money_format(33300, "KWD") == "33.300"
    assert money_format(4410, "USD") == "44.10"


def test_gbp_crosses_through_eur(rates):
    # 86.75 GBP ÷ 0.8675 = 100 EUR → 108.32 USD
    assert fx_to_usd_minor(amount_minor=8675, currency="GBP", on=FRIDAY) == 10832
    assert fx_to_usd_minor(amount_minor=8650, currency="GBP", on=THURSDAY) == 10790


def test_missing_rate_is_stored_then_converted_when_the_rate_arrives(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.ORDER_CONSUMERS = ["tests.consumer"]
    eur = order(ProcessorConnectionFactory(), currency="EUR", amount=10000, created_at="2026-11-20T10:00:00Z")
    assert (eur.amount_minor, eur.amount_usd_minor) == (10000, None)

    path = tmp_path / "eurofxref-daily.xml"
    path.write_bytes(FILES["eurofxref-daily.xml"][0])
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("fx_import", str(path))

    assert Order.objects.get().amount_usd_minor == 10832
    assert len(callbacks) == 1  # consumers recompute with the USD amount


@responses.activate
def test_daily_fetch_reads_the_ecb_daily_file():
    responses.get(ecb.DAILY_URL, body=FILES["eurofxref-daily.xml"][0], content_type="text/xml")
    assert fx_fetch_daily() == 4
    assert ExchangeRate.objects.filter(date=FRIDAY).count() == 4


@responses.activate
def test_daily_fetch_outage_is_retryable():
    from integrations.processors.errors import ProcessorUnavailable

    responses.get(ecb.DAILY_URL, status=503)
    with pytest.raises(ProcessorUnavailable):
        fx_fetch_daily()
