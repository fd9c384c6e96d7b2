"""`{% load formats %}` (registered in settings, so any template may load it): the page formats of
trackrev/common/display.py and money.py as filters, e.g. `{{ order.amount_minor|money:order.currency }}`,
`{{ order.placed_at|timestamp }}`, `{{ start|day }}`, `{{ visitors|number }}`."""

from django import template

from trackrev.common.display import day_display, number_display, timestamp_display
from trackrev.common.money import money_display

register = template.Library()


@register.filter
def money(amount_minor, currency: str) -> str:
    """Empty when unknown (no FX rate yet), so that `|default:"—"` can say so."""
    return money_display(amount_minor, currency) or ""


@register.filter
def number(value) -> str:
    return number_display(value)


@register.filter
def day(value) -> str:
    return day_display(value) if value else ""


@register.filter
def timestamp(value) -> str:
    return timestamp_display(value) if value else ""
