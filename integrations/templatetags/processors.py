"""`{% processor_offer as offer %}`: the processors a page may offer to connect, as a phrase (those with an
adapter in the registry, so a new adapter shows up everywhere by itself)."""

from django import template

from integrations.processors.registry import ADAPTERS

register = template.Library()


@register.simple_tag
def processor_offer() -> str:
    """ "A", "A or B", "A, B or C": the adapters' names in the registry's order."""
    names = [adapter.display_name for adapter in ADAPTERS.values()]
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""
