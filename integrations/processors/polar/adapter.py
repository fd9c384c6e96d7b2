"""Polar: Standard Webhooks signatures (with Polar's secret encoding) and the REST API v1."""

from collections.abc import Iterator, Mapping
from datetime import datetime

from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import Failure, ProcessorRejected, SignatureInvalid
from integrations.processors.options import ConnectionOption
from integrations.processors.parsing import fetched_order, fetched_subscription, json_body, readable
from integrations.processors.polar import demo, mapping
from integrations.processors.polar.signature import STANDARD_WEBHOOKS_HEADERS, standard_webhooks_verify
from integrations.processors.signing import b64decode_strict
from integrations.processors.types import (
    ChangesPage,
    NormalizedOrder,
    NormalizedSubscription,
    ParsedEvent,
    RefundChange,
)

PAGE_SIZE = 100  # Polar's maximum
# The statuses a subscription can still leave (polar.md §4), and the others.
OPEN_SUBSCRIPTION_STATUSES = ("incomplete", "trialing", "active", "past_due", "paused")
ENDED_SUBSCRIPTION_STATUSES = tuple(sorted(mapping.SUBSCRIPTION_STATUSES - set(OPEN_SUBSCRIPTION_STATUSES)))


def signing_keys(secret: str) -> tuple[bytes, ...]:
    """The HMAC keys Polar's SDK accepts for a dashboard secret: its raw UTF-8 bytes, which Polar signs
    with (polar.md §1.3), and the Standard Webhooks reading, base64 after an optional `whsec_` (what a
    Standard Webhooks library given the same string signs with), when that decodes."""
    raw = secret.encode()
    rest = secret.removeprefix("whsec_")
    decoded = b64decode_strict(rest + "=" * (-len(rest) % 4))
    return (raw, decoded) if decoded and decoded != raw else (raw,)


class PolarAdapter(ProcessorAdapter):
    key = "polar"
    display_name = "Polar"
    default_api_base_url = "https://api.polar.sh/v1"
    sandbox_api_base_url = "https://sandbox-api.polar.sh/v1"
    setup_template = "polar/setup.html"
    token_scopes = ("orders:read", "subscriptions:read", "customers:read", "refunds:read")
    connection_options = (
        ConnectionOption(
            "organization_id",
            "Organization id (optional)",
            help_text="Only for a token that sees several organizations: the one whose sales to read.",
            pattern=r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            pattern_message="A Polar organization id is a UUID, e.g. 1dbfc517-0bbf-4301-9ba8-555ca42b9737.",
        ),
    )
    webhook_events = (
        *sorted(mapping.ORDER_EVENTS),
        "subscription.created",
        "subscription.updated",
        "subscription.active",
        "subscription.canceled",
        "subscription.uncanceled",
        "subscription.revoked",
        "subscription.past_due",
        *sorted(mapping.REFUND_EVENTS),
    )
    handled_event_types = mapping.ORDER_EVENTS | mapping.REFUND_EVENTS
    handled_event_prefixes = (mapping.SUBSCRIPTION_PREFIX,)
    webhook_headers = STANDARD_WEBHOOKS_HEADERS
    requests_per_minute = 500
    # The order list has no "modified since" filter, and a subscription can end in a state with no date the
    # list filters on (polar.md §4).
    repairs = frozenset({Repair.PENDING_ORDERS, Repair.UNLISTED_SUBSCRIPTIONS})
    demo_deliveries = staticmethod(demo.deliveries)

    def verify_signature(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        if not self.creds.webhook_secret:
            raise SignatureInvalid("no webhook secret")
        standard_webhooks_verify(
            body=body, headers=headers, keys=signing_keys(self.creds.webhook_secret), now=self.clock()
        )

    def delivery_id(self, *, body: bytes, headers: Mapping[str, str], payload: dict) -> str:
        return headers["webhook-id"][:255]

    def event_type(self, *, payload: dict) -> str:
        return str(payload.get("type") or "")[:100]

    def parse_event(self, *, body: bytes, headers: Mapping[str, str]) -> ParsedEvent:
        payload = json_body(body)
        return mapping.event_from(payload)

    def _org_params(self) -> dict:
        org = self.creds.options.get("organization_id")
        return {"organization_id": org} if org else {}

    def _pages(self, path: str, params: dict, resource: str, parse) -> Iterator[ChangesPage]:
        page = 1
        while True:
            body = self.http.get_json(path, params={**params, **self._org_params(), "limit": PAGE_SIZE, "page": page})
            items = body.get("items") or []
            max_page = int((body.get("pagination") or {}).get("max_page") or 0)
            yield ChangesPage(resource=resource, page=page, pages=max_page, changes=tuple(map(readable(parse), items)))
            if page >= max_page or not items:
                return
            page += 1

    def list_changes(self, *, since: datetime) -> Iterator[ChangesPage]:
        stamp = since.isoformat()
        # Subscriptions first, so orders find them. Polar's API can neither filter nor sort them by
        # modification time: every open one is read (`status` is repeatable; 100 a page), and the ended
        # ones that started or were canceled in the window. Orders by creation time.
        ended = list(ENDED_SUBSCRIPTION_STATUSES)
        yield from self._subscription_pages({"status": list(OPEN_SUBSCRIPTION_STATUSES)}, "open subscriptions")
        yield from self._subscription_pages({"started_after": stamp, "status": ended}, "ended subscriptions")
        yield from self._subscription_pages({"canceled_at_after": stamp, "status": ended}, "canceled subscriptions")
        yield from self._pages(
            "orders/", {"created_after": stamp, "sorting": "-created_at"}, "orders", mapping.order_from
        )
        yield from self._refund_pages(since)

    def _subscription_pages(self, params: dict, resource: str) -> Iterator[ChangesPage]:
        return self._pages("subscriptions/", params, resource, mapping.subscription_from)

    def _refund_pages(self, since: datetime) -> Iterator[ChangesPage]:
        # No date filter on refunds: newest first, stop at the first page reaching past `since`.
        for chunk in self._pages("refunds/", {"sorting": "-created_at"}, "refunds", mapping.refund_from):
            yield chunk
            stamps = [change.refund.refunded_at for change in chunk.changes if isinstance(change, RefundChange)]
            if stamps and min(stamps) < since:
                return

    def fetch_order(self, *, external_id: str) -> NormalizedOrder:
        change = mapping.order_from(self.http.get_json(f"orders/{external_id}"))
        return fetched_order(change, external_id)

    def fetch_subscription(self, *, external_id: str) -> NormalizedSubscription:
        change = mapping.subscription_from(self.http.get_json(f"subscriptions/{external_id}"))
        return fetched_subscription(change, external_id)

    def check_credentials(self) -> None:
        body = self.http.get_json("orders/", params={**self._org_params(), "limit": 1})
        if "items" not in body:
            raise ProcessorRejected(
                "the API answered, but not like Polar's orders list", failure=Failure.UNEXPECTED_ANSWER
            )
