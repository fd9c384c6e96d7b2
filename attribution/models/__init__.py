"""Attribution models, split by topic: the pixel's data, channel rules, credits and rollups."""

from attribution.models.channels import ChannelRule, RuleField, RuleOperator
from attribution.models.credits import (
    AttributionState,
    Credit,
    DailyRollup,
    DailyTotal,
    OrderAttribution,
    RecomputeRun,
    RecomputeStatus,
    VisitorSetDay,
)
from attribution.models.pixel import BrowserFamily, Identity, IdentitySource, Touch, Visitor, VisitorCookie

__all__ = [
    "AttributionState",
    "BrowserFamily",
    "ChannelRule",
    "Credit",
    "DailyRollup",
    "DailyTotal",
    "Identity",
    "IdentitySource",
    "OrderAttribution",
    "RecomputeRun",
    "RecomputeStatus",
    "RuleField",
    "RuleOperator",
    "Touch",
    "Visitor",
    "VisitorCookie",
    "VisitorSetDay",
]
