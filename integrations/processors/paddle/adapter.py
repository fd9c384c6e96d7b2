"""Paddle Billing (API v1, not Paddle Classic): `Paddle-Signature` webhooks and the REST API."""

import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlparse

import requests

from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import Failure, PayloadInvalid, ProcessorRejected
from integrations.processors.http import HttpClient
from integrations.processors.paddle import demo, mapping
from integrations.processors.paddle.signature import SIGNATURE_HEADER, paddle_verify
from integrations.processors.parsing import fetched_order, fetched_subscription, iso_datetime, json_body, readable
from integrations.processors.signing import sha256_hex
from integrations.processors.types import (
    ChangesPage,
    NormalizedOrder,
    NormalizedSubscription,
    ParsedEvent,
)

# Paddle answers at most its own maximum when asked for more, and says how many in meta.pagination.per_page.
PAGE_SIZE = 200
# The statuses a subscription can still leave: the poll lists every one of them (the adapter contract).
OPEN_SUBSCRIPTION_STATUSES = ("active", "past_due", "paused", "trialing")
# Adjustments can be filtered on neither date: they are read newest first, back to those created this long
# before the window, since a refund Paddle approves inside the window may have been asked for days before.
REFUND_REVIEW = timedelta(days=14)
# A transaction's customer (its email) and discount (the code the customer typed), listed with it.
TRANSACTION_INCLUDES = "customer,discount"
KEY_REFUSED = frozenset({"invalid_token", "authentication_missing", "authentication_malformed"})


def _created_before(item: dict, moment: datetime) -> bool:
    try:
        created = iso_datetime(item.get("created_at"))
    except PayloadInvalid:  # the page counts it as unreadable
        return False
    return created is not None and created < moment


def _rejection(response: requests.Response) -> Failure | None:
    """Paddle refuses a wrong or revoked key with 403 `invalid_token`, as it refuses a missing permission
    (403 `forbidden`): its error code tells them apart."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    return Failure.TOKEN_REJECTED if isinstance(error, dict) and error.get("code") in KEY_REFUSED else None


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class PaddleAdapter(ProcessorAdapter):
    key = "paddle"
    display_name = "Paddle"
    default_api_base_url = "https://api.paddle.com"
    sandbox_api_base_url = "https://sandbox-api.paddle.com"
    setup_template = "paddle/setup.html"
    # `customer.read` too: the transactions are listed with their customer, for the email they lack.
    token_scopes = ("transaction.read", "subscription.read", "adjustment.read", "customer.read")
    webhook_events = (
        "transaction.completed",
        "transaction.paid",
        "transaction.past_due",
        "transaction.canceled",
        *sorted(mapping.SUBSCRIPTION_EVENTS),
        *sorted(mapping.ADJUSTMENT_EVENTS),
        *sorted(mapping.CUSTOMER_EVENTS),
    )
    handled_event_types = (
        mapping.TRANSACTION_EVENTS | mapping.SUBSCRIPTION_EVENTS | mapping.ADJUSTMENT_EVENTS | mapping.CUSTOMER_EVENTS
    )
    webhook_headers = (SIGNATURE_HEADER,)
    requests_per_minute = 240
    # Subscriptions can be listed by status but not by date: one that ended (canceled) unseen is asked for.
    repairs = frozenset({Repair.UNLISTED_SUBSCRIPTIONS})
    demo_deliveries = staticmethod(demo.deliveries)

    def http_client(self, **options) -> HttpClient:
        return super().http_client(headers={"Paddle-Version": "1"}, rejection=_rejection, **options)

    def verify_signature(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        paddle_verify(body=body, headers=headers, secret=self.creds.webhook_secret, now=self.clock())

    def delivery_id(self, *, body: bytes, headers: Mapping[str, str], payload: dict) -> str:
        # The event's id: retries and replays of one event reuse it. A verified body without one is
        # still stored once.
        return str(payload.get("event_id") or "")[:255] or sha256_hex(body)

    def event_type(self, *, payload: dict) -> str:
        return str(payload.get("event_type") or "")[:100]

    def parse_event(self, *, body: bytes, headers: Mapping[str, str]) -> ParsedEvent:
        payload = json_body(body)
        return mapping.event_from(payload)

    def _pages(self, path: str, params: dict, resource: str, parse, *, last=None) -> Iterator[ChangesPage]:
        """Follow Paddle's cursor: each page's `meta.pagination.next` until `has_more` is false, or until
        `last(items)` says a page is the last one needed. Only the cursor's query is taken from `next`:
        requests stay on the connection's own base URL."""
        query, page = {**params, "per_page": PAGE_SIZE}, 1
        while True:
            body = self.http.get_json(path, params=query)
            items = body.get("data") or []
            pagination = (body.get("meta") or {}).get("pagination") or {}
            per_page = int(pagination.get("per_page") or PAGE_SIZE)
            pages = math.ceil(int(pagination.get("estimated_total") or 0) / per_page)
            yield ChangesPage(resource=resource, page=page, pages=pages, changes=tuple(map(readable(parse), items)))
            if not (pagination.get("has_more") and pagination.get("next") and items) or (last and last(items)):
                return
            query, page = dict(parse_qsl(urlparse(pagination["next"]).query)), page + 1

    def list_changes(self, *, since: datetime) -> Iterator[ChangesPage]:
        # Subscriptions first, so orders find them: every open one (no date filter exists), then the
        # transactions changed in the window (status changes keep the id: filter on updated_at) with their
        # customers and discounts, then the adjustments.
        open_ones = {"status": ",".join(OPEN_SUBSCRIPTION_STATUSES)}
        yield from self._pages("subscriptions", open_ones, "subscriptions", mapping.subscription_from)
        transactions = {
            "updated_at[GT]": _stamp(since),
            "status": ",".join(mapping.LISTED_ORDER_STATUSES),
            "include": TRANSACTION_INCLUDES,
            "order_by": "id[ASC]",
        }
        yield from self._pages("transactions", transactions, "transactions", mapping.order_from)
        yield from self._adjustment_pages(since - REFUND_REVIEW)

    def _adjustment_pages(self, created_after: datetime) -> Iterator[ChangesPage]:
        # Newest first (ids are time-ordered); the last page needed reaches past `created_after`.
        def reaches_past(items: list[dict]) -> bool:
            return any(_created_before(item, created_after) for item in items)

        return self._pages(
            "adjustments", {"order_by": "id[DESC]"}, "adjustments", mapping.refund_from, last=reaches_past
        )

    def fetch_order(self, *, external_id: str) -> NormalizedOrder:
        body = self.http.get_json(f"transactions/{external_id}", params={"include": TRANSACTION_INCLUDES})
        change = mapping.order_from(body.get("data") or {})
        return fetched_order(change, external_id)

    def fetch_subscription(self, *, external_id: str) -> NormalizedSubscription:
        change = mapping.subscription_from(self.http.get_json(f"subscriptions/{external_id}").get("data") or {})
        return fetched_subscription(change, external_id)

    def check_credentials(self) -> None:
        body = self.http.get_json("transactions", params={"per_page": 1})
        if not isinstance(body.get("data"), list):
            raise ProcessorRejected(
                "the API answered, but not like Paddle's transactions list", failure=Failure.UNEXPECTED_ANSWER
            )
