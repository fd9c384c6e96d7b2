"""Per-workspace channel rules, compiled once into predicates (see ChannelRule)."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FIELDS = ("source", "medium", "campaign", "referrer_domain")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    field: str
    matches: Callable[[str], bool]
    channel: str
    channel_group: str


def rule_predicate(operator: str, value: str) -> Callable[[str], bool] | None:
    value = value.strip().lower()
    if operator == "equals":
        return value.__eq__
    if operator == "contains":
        return lambda candidate: value in candidate
    if operator == "regex":
        try:
            pattern = re.compile(value, re.IGNORECASE)
        except re.error:
            return None  # forms refuse bad patterns; an old bad row must not break the pixel
        return lambda candidate: pattern.search(candidate) is not None
    return None


def compile_rules(rules: Iterable) -> tuple[CompiledRule, ...]:
    """Rules (objects with field, operator, value, channel, channel_group) in evaluation order."""
    compiled = []
    for rule in rules:
        predicate = rule_predicate(rule.operator, rule.value)
        if predicate is not None and rule.field in FIELDS:
            compiled.append(CompiledRule(rule.field, predicate, rule.channel, rule.channel_group))
    return tuple(compiled)
