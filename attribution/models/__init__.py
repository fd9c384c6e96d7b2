"""Attribution models, split by topic: the pixel's data, channel rules, credits and rollups."""

from attribution.models.channels import ChannelRule, RuleField, RuleOperator
from attribution.models.pixel import Identity, Touch, Visitor

__all__ = ["ChannelRule", "Identity", "RuleField", "RuleOperator", "Touch", "Visitor"]
