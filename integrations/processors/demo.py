"""The demo shop's sales (`make run`), as each processor's package renders them: the webhook deliveries
its processor would send for one sale, so the demo's rows come through the real mapping code. No Django."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integrations.processors.errors import Failure, ProcessorRejected


@dataclass(frozen=True)
class DemoRefund:
    amount_minor: int
    at: datetime


@dataclass(frozen=True)
class DemoSale:
    ref: str  # unique in the shop: the processor's ids derive from it
    currency: str  # ISO 4217, upper case
    amount_minor: int  # the price, net of tax (demo prices carry none)
    at: datetime
    email: str
    visitor_ref: str  # "" when the checkout lost the visitor id
    period: timedelta | None  # a subscription's billing period; None for a one-time purchase
    renewals: tuple[datetime, ...] = ()  # its paid renewals so far
    refund: DemoRefund | None = None  # of the first payment


@dataclass(frozen=True)
class DemoDelivery:
    body: bytes
    headers: dict[str, str]  # those of the adapter's `webhook_headers` that `parse_event` reads
    at: datetime
    renewal: bool = False  # a renewal's payment (the demo shows these as found by the hourly sync)
    # What the processor's API answers (JSON by path) to the reads its parser makes for this delivery, where
    # the delivery names an object only by id: a demo connection calls no processor.
    api: dict[str, dict] = field(default_factory=dict)


class DemoApi:
    """A demo connection's API: it answers only what the delivery being parsed rendered, and nothing at all
    outside the seeding (a demo connection never calls its processor, whatever reads it)."""

    def __init__(self, answers: dict[str, dict] | None = None):
        self.answers = answers or {}

    def get_json(self, path: str, *, params=None) -> dict:
        try:
            return self.answers[path]
        except KeyError:
            raise ProcessorRejected(
                f"a demo connection has no {path} to read", failure=Failure.NOT_FOUND, status_code=404
            ) from None
