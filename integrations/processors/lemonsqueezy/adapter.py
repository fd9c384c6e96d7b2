"""Lemon Squeezy: `X-Signature` webhooks (hex HMAC-SHA256 of the body, no timestamp) and the JSON:API REST v1."""

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import Failure, PayloadInvalid, ProcessorRejected, SignatureInvalid
from integrations.processors.http import HttpClient
from integrations.processors.lemonsqueezy import demo, mapping
from integrations.processors.options import ConnectionOption
from integrations.processors.parsing import fetched_order, fetched_subscription, iso_datetime, json_body, readable
from integrations.processors.signing import constant_time_equal, hmac_sha256, sha256_hex
from integrations.processors.types import (
    ChangesPage,
    NormalizedOrder,
    NormalizedSubscription,
    ParsedEvent,
)

PAGE_SIZE = 100  # the API's maximum `page[size]`
# The statuses a subscription can still leave; `cancelled` runs until `ends_at`. The list filters on one
# status at a time.
OPEN_SUBSCRIPTION_STATUSES = ("on_trial", "active", "paused", "past_due", "cancelled")
ENDED_SUBSCRIPTION_STATUSES = ("expired", "unpaid")
# Lists have no date filter: they are read newest first back to `since`, and back this much further for
# orders and invoices, whose refunds (a new `refunded_amount`) come long after their creation.
REFUND_LOOKBACK = timedelta(days=30)


def _created_before(resources: list, moment: datetime) -> bool:
    """Whether a newest-first page reaches back past `moment` (its last resource was created before it)."""
    try:
        oldest = iso_datetime(resources[-1]["attributes"]["created_at"])
    except (PayloadInvalid, IndexError, KeyError, TypeError):
        return False
    return oldest is not None and oldest < moment


class LemonSqueezyAdapter(ProcessorAdapter):
    key = "lemonsqueezy"
    display_name = "Lemon Squeezy"
    default_api_base_url = "https://api.lemonsqueezy.com/v1"
    setup_template = "lemonsqueezy/setup.html"
    token_scopes = ()  # API keys have no scopes: each one can do anything in the account (setup.html says so)
    connection_options = (
        ConnectionOption(
            "store_id",
            "Store id (optional)",
            help_text="Only for an account with several stores: the one whose sales to read (Settings → Stores).",
            pattern=r"[0-9]{1,20}",
            pattern_message="A Lemon Squeezy store id is a number, e.g. 51234.",
        ),
    )
    webhook_events = (
        *sorted(mapping.ORDER_EVENTS),
        *sorted(mapping.SUBSCRIPTION_EVENTS),
        *sorted(mapping.INVOICE_EVENTS),
    )
    handled_event_types = mapping.EVENTS
    webhook_headers = ("x-signature", "x-event-name")
    requests_per_minute = 300
    # Subscriptions that ended long after they started leave the open lists with no date to find them by,
    # and an invoice can stay pending longer than the lists look back.
    repairs = frozenset({Repair.PENDING_ORDERS, Repair.UNLISTED_SUBSCRIPTIONS})
    demo_deliveries = staticmethod(demo.deliveries)

    def http_client(self, **options) -> HttpClient:
        return super().http_client(headers={"Accept": "application/vnd.api+json"}, **options)

    def verify_signature(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        if not self.creds.webhook_secret:
            raise SignatureInvalid("no webhook secret")
        try:
            given = bytes.fromhex(headers.get("x-signature", "").strip())
        except ValueError as exc:
            raise SignatureInvalid("X-Signature is not hex") from exc
        if not given:
            raise SignatureInvalid("missing X-Signature")
        if not constant_time_equal(hmac_sha256(self.creds.webhook_secret.encode(), body), given):
            raise SignatureInvalid("no matching signature")

    def delivery_id(self, *, body: bytes, headers: Mapping[str, str], payload: dict) -> str:
        # No event id: automatic retries resend the same body, so its hash dedups them in the inbox; any
        # other replay lands on business keys (order, invoice and subscription ids, cumulative refunds).
        return sha256_hex(body)

    def event_type(self, *, payload: dict) -> str:
        return mapping.event_name(payload)

    def parse_event(self, *, body: bytes, headers: Mapping[str, str]) -> ParsedEvent:
        payload = json_body(body)
        parsed = mapping.event_from(payload)
        # The header is not signed, the body is: one that disagrees was changed on the way.
        if headers.get("x-event-name", parsed.event_type) != parsed.event_type:
            raise PayloadInvalid("X-Event-Name disagrees with meta.event_name")
        return parsed

    def _store_params(self) -> dict:
        store = self.creds.options.get("store_id")
        return {"filter[store_id]": store} if store else {}

    def _pages(self, path: str, params: dict, resource: str, parse, *, back_to: datetime | None = None):
        """Pages of a JSON:API list; with `back_to`, newest first until a page reaches past it."""
        page = 1
        while True:
            query = {**params, **self._store_params(), "page[number]": page, "page[size]": PAGE_SIZE}
            body = self.http.get_json(path, params=query)
            items = body.get("data") or []
            last_page = int(((body.get("meta") or {}).get("page") or {}).get("lastPage") or 0)
            yield ChangesPage(resource=resource, page=page, pages=last_page, changes=tuple(map(readable(parse), items)))
            if page >= last_page or not items or (back_to and _created_before(items, back_to)):
                return
            page += 1

    def list_changes(self, *, since: datetime) -> Iterator[ChangesPage]:
        # Orders first: here the subscription names its first order (`order_id`), which must be stored to
        # take it; then every open subscription, and those that ended after starting in the window (older
        # ones that ended are the UNLISTED_SUBSCRIPTIONS repair's); then the invoices, which name theirs.
        back_to = since - REFUND_LOOKBACK
        yield from self._pages("orders", {}, "orders", mapping.order_from, back_to=back_to)
        for status in OPEN_SUBSCRIPTION_STATUSES:
            yield from self._pages(
                "subscriptions", {"filter[status]": status}, f"{status} subscriptions", mapping.subscription_from
            )
        for status in ENDED_SUBSCRIPTION_STATUSES:
            params = {"filter[status]": status}
            yield from self._pages(
                "subscriptions", params, f"{status} subscriptions", mapping.subscription_from, back_to=since
            )
        yield from self._pages(
            "subscription-invoices", {}, "subscription invoices", mapping.invoice_from, back_to=back_to
        )

    def fetch_order(self, *, external_id: str) -> NormalizedOrder:
        if external_id.startswith(mapping.INVOICE_PREFIX):
            invoice_id = external_id.removeprefix(mapping.INVOICE_PREFIX)
            change = mapping.invoice_from(self._get(f"subscription-invoices/{invoice_id}"))
        else:
            change = mapping.order_from(self._get(f"orders/{external_id}"))
        return fetched_order(change, external_id)

    def fetch_subscription(self, *, external_id: str) -> NormalizedSubscription:
        change = mapping.subscription_from(self._get(f"subscriptions/{external_id}"))
        return fetched_subscription(change, external_id)

    def _get(self, path: str) -> dict:
        if not path.rpartition("/")[2].isdigit():  # ids are integers; anything else would name another path
            raise PayloadInvalid(f"not a Lemon Squeezy id: {path!r}")
        return self.http.get_json(path).get("data") or {}

    def check_credentials(self) -> None:
        body = self.http.get_json("orders", params={**self._store_params(), "page[size]": 1})
        if not isinstance(body.get("data"), list):
            raise ProcessorRejected(
                "the API answered, but not like Lemon Squeezy's orders list", failure=Failure.UNEXPECTED_ANSWER
            )
