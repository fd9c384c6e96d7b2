"""`{% processor_offer as offer %}`: which processors a page may offer to connect (those with an adapter
in the registry, so a new adapter shows up everywhere by itself) and which are still to come."""

from dataclasses import dataclass

from django import template

from integrations.models import Processor
from integrations.processors.registry import ADAPTERS

register = template.Library()


def _phrase(names: list[str], *, last: str) -> str:
    """ "A", "A or B", "A, B or C" (with `last="or"`)."""
    return f" {last} ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""


@dataclass(frozen=True)
class ProcessorOffer:
    available: str  # the processors that can be connected, as a phrase
    coming: str  # those without an adapter yet, as a phrase


@register.simple_tag
def processor_offer() -> ProcessorOffer:
    return ProcessorOffer(
        available=_phrase([adapter.display_name for adapter in ADAPTERS.values()], last="or"),
        coming=_phrase([label for key, label in Processor.choices if key not in ADAPTERS], last="and"),
    )
