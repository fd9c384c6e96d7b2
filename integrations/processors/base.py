"""The adapter contract every processor implements (ARCHITECTURE.md §2)."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import ClassVar

from integrations.processors.api_urls import api_url_check
from integrations.processors.demo import DemoDelivery, DemoSale
from integrations.processors.http import HttpClient
from integrations.processors.options import ConnectionOption
from integrations.processors.types import (
    ChangesPage,
    ConnectionCredentials,
    NormalizedOrder,
    NormalizedSubscription,
    ParsedEvent,
)


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


class Repair(StrEnum):
    """What reconcile asks the API for again, one object at a time, where a processor's lists leave gaps."""

    PENDING_ORDERS = "pending_orders"  # orders still pending from before the window (no "modified since")
    UNLISTED_SUBSCRIPTIONS = "unlisted_subscriptions"  # held open here and not listed: ended unseen


class ProcessorAdapter(ABC):
    key: ClassVar[str]
    display_name: ClassVar[str]
    # The processor's own APIs: the only base URLs a connection may name outside DEBUG, besides the
    # operator's PROCESSOR_API_HOSTS.
    default_api_base_url: ClassVar[str]
    sandbox_api_base_url: ClassVar[str] = ""
    # What the processor's Integrations page tells the user to set up on the processor's side: the
    # template of steps 2 and 3 (checkout metadata, token, webhook), `<key>/setup.html` in the processor's
    # package, and the scopes and events they list.
    setup_template: ClassVar[str]
    token_scopes: ClassVar[tuple[str, ...]] = ()
    # Settings of a connection besides token and secret (integrations/processors/options.py).
    connection_options: ClassVar[tuple[ConnectionOption, ...]] = ()
    webhook_events: ClassVar[tuple[str, ...]] = ()
    # Event types whose deliveries we process; anything else is stored as ignored.
    handled_event_types: ClassVar[frozenset[str]]
    handled_event_prefixes: ClassVar[tuple[str, ...]] = ()
    # Request headers (lower case) that verify_signature, delivery_id and parse_event read; the view
    # passes only these (and the inbox keeps them with the body).
    webhook_headers: ClassVar[tuple[str, ...]]
    # The API's rate limit, and the repairs its lists need: reconcile asks for at most a minute's worth of
    # single objects per repair and run.
    requests_per_minute: ClassVar[int]
    repairs: ClassVar[frozenset[Repair]] = frozenset()
    # The demo shop's sale → the deliveries the processor would send for it (`<key>/demo.py`).
    demo_deliveries: ClassVar[Callable[[DemoSale], list[DemoDelivery]]]
    do_not_call_in_templates = True  # pages read the class attributes above

    def __init__(
        self,
        creds: ConnectionCredentials,
        *,
        http: HttpClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.creds = creds
        self.clock = clock
        if http is not None:
            self.http = http

    @cached_property
    def http(self) -> HttpClient:
        # Built on first use: the webhook path never calls the API.
        return self.http_client()

    def http_client(self, **options) -> HttpClient:
        """A client of the connection's API. Checks the base URL again (raises ApiUrlNotAllowed): a
        connection saved in DEBUG, or before the allow-list existed, may name any."""
        self.api_base_url_check(self.creds.api_base_url)
        return HttpClient(base_url=self.creds.api_base_url, token=self.creds.api_token, **options)

    @classmethod
    def api_base_url_check(cls, url: str) -> None:
        """Raise ApiUrlNotAllowed unless a connection may call `url` (integrations.processors.api_urls)."""
        api_url_check(url=url, own=(cls.default_api_base_url, cls.sandbox_api_base_url))

    @abstractmethod
    def verify_signature(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise SignatureInvalid / SignatureStale unless `body` was signed by the processor.
        `headers` here and below: the `webhook_headers` the request carried, by lower-case name."""

    @abstractmethod
    def delivery_id(self, *, body: bytes, headers: Mapping[str, str], payload: dict) -> str:
        """The processor's id of this delivery (retries reuse it): the inbox's dedup key. `payload`: the
        verified body, parsed (once, by the view)."""

    @abstractmethod
    def event_type(self, *, payload: dict) -> str:
        """The event type named by a (verified, parsed) payload."""

    @abstractmethod
    def parse_event(self, *, body: bytes, headers: Mapping[str, str]) -> ParsedEvent:
        """Map a verified delivery to normalized changes; raise PayloadInvalid when unreadable."""

    @abstractmethod
    def list_changes(self, *, since: datetime) -> Iterator[ChangesPage]:
        """Pages of orders, subscriptions and refunds changed since `since` (the reconcile poll), each
        object after those it names: subscriptions first, unless they name their first order.

        The pages also hold every open subscription (any status outside the ledger's
        TERMINAL_SUBSCRIPTION_STATUSES) in its current state, however long ago it last changed, so that
        every change a webhook can bring is repaired. Reconcile then asks `fetch_subscription` for each
        subscription the ledger holds open that no page returned: it has ended, or moved to a state the
        listing does not cover."""

    @abstractmethod
    def fetch_order(self, *, external_id: str) -> NormalizedOrder:
        """One order's current state from the API (repair)."""

    @abstractmethod
    def fetch_subscription(self, *, external_id: str) -> NormalizedSubscription:
        """One subscription's current state from the API (repair)."""

    @abstractmethod
    def check_credentials(self) -> None:
        """One cheap authenticated read; raises ProcessorRejected / ProcessorUnavailable."""

    def handles(self, event_type: str) -> bool:
        return event_type in self.handled_event_types or event_type.startswith(self.handled_event_prefixes)
