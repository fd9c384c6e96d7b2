from affiliates.models.commissions import Commission, CommissionKind, CommissionStatus, Review
from affiliates.models.partners import (
    Click,
    DiscountCode,
    Link,
    Partner,
    PartnerAccount,
    PartnerStatus,
    PayoutMethod,
)
from affiliates.models.payouts import Payout, PayoutBatch, PayoutSettings, PayoutStatus
from affiliates.models.programs import CommissionType, Program, Recurring

__all__ = [
    "Click",
    "Commission",
    "CommissionKind",
    "CommissionStatus",
    "CommissionType",
    "DiscountCode",
    "Link",
    "Partner",
    "PartnerAccount",
    "PartnerStatus",
    "Payout",
    "PayoutBatch",
    "PayoutMethod",
    "PayoutSettings",
    "PayoutStatus",
    "Program",
    "Recurring",
    "Review",
]
