"""`{% load formats %}`: the one format per kind that every page uses (trackrev/common/display.py)."""

from datetime import UTC, date, datetime

from django.template import Context, Template


def render(source: str, **context) -> str:
    return Template("{% load formats %}" + source).render(Context(context))


def test_money_carries_its_currency_its_exponent_and_thousands_separators():
    assert render("{{ a|money:'USD' }}", a=123456789) == "USD 1,234,567.89"
    assert render("{{ a|money:'JPY' }} {{ b|money:'KWD' }}", a=150000, b=33300) == "JPY 150,000 KWD 33.300"
    assert render("{{ a|money:'eur' }}", a=-1250) == "EUR -12.50"
    assert render("{{ a|money:'USD'|default:'—' }}", a=None) == "—"  # no FX rate yet


def test_days_timestamps_and_counts_have_one_format_each():
    assert render("{{ d|day }}", d=date(2026, 11, 1)) == "Nov 1, 2026"
    moment = datetime(2026, 11, 1, 14, 5, 59, tzinfo=UTC)
    assert render("{{ t|timestamp }} {{ t|day }}", t=moment) == "Nov 1, 2026, 14:05 UTC Nov 1, 2026"
    assert render("{{ n|number }}", n=4212) == "4,212"
