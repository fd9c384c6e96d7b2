"""Channel classification: raw landing inputs → (channel, channel group, campaign), see
shared/reference/channels.md. Pure Python (no ORM) so the hot path, the preview and the
re-apply job share it."""

from attribution.channels.classify import Classification, Landing, classify
from attribution.channels.rules import CompiledRule, compile_rules

__all__ = ["Classification", "CompiledRule", "Landing", "classify", "compile_rules"]
