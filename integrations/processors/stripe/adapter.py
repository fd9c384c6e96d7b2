"""Stripe: `Stripe-Signature` webhooks and the REST API v1, pinned to one API version."""

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

import requests

from integrations.processors.base import ProcessorAdapter, Repair
from integrations.processors.errors import Failure, ProcessorRejected
from integrations.processors.http import HttpClient
from integrations.processors.parsing import fetched_order, fetched_subscription, json_body, readable
from integrations.processors.signing import sha256_hex
from integrations.processors.stripe import demo, mapping
from integrations.processors.stripe.signature import SIGNATURE_HEADER, stripe_signature_verify
from integrations.processors.types import (
    ChangesPage,
    NormalizedOrder,
    NormalizedSubscription,
    ParsedEvent,
)

# The shapes mapping.py reads; webhook endpoints are created on it too (the setup steps say so).
API_VERSION = mapping.API_VERSION
PAGE_SIZE = 100  # Stripe's maximum `limit`
# An invoice's discounts with their promotion codes (the code the customer typed), in place of their ids.
DISCOUNTS_EXPANDED = "discounts.promotion_code"
# `GET /v1/events` reaches 30 days back: a window starting earlier is read from the object lists, with a
# day's margin so that no event expires while its pages are read.
EVENTS_REACH = timedelta(days=29)


def _stripe_should_retry(response: requests.Response) -> bool:
    # Stripe says when a retry cannot succeed (https://docs.stripe.com/error-low-level#idempotency).
    return response.headers.get("Stripe-Should-Retry", "").lower() != "false"


class StripeAdapter(ProcessorAdapter):
    key = "stripe"
    display_name = "Stripe"
    default_api_base_url = "https://api.stripe.com/v1"
    setup_template = "stripe/setup.html"
    api_version = API_VERSION  # the setup steps ask for it on the webhook endpoint
    # A restricted key's permissions, as the Dashboard names them (all read-only).
    token_scopes = (
        "Events: Read",
        "Checkout Sessions: Read",
        "Invoices: Read",
        "Subscriptions: Read",
        "Customers: Read",
        "Charges and Refunds: Read",
        "Disputes: Read",
    )
    webhook_events = tuple(sorted(mapping.EVENTS))
    handled_event_types = mapping.EVENTS
    webhook_headers = (SIGNATURE_HEADER,)
    requests_per_minute = 1500  # 25 a second: Stripe's per-endpoint default, well inside its 100/s live limit
    # The list of subscriptions leaves out canceled ones, and the events reach back 30 days only: one held
    # open here that ended unseen before that is asked for again.
    repairs = frozenset({Repair.UNLISTED_SUBSCRIPTIONS})
    demo_deliveries = staticmethod(demo.deliveries)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._orders_by_payment: dict[tuple[str, str], mapping.OrderRef] = {}

    def http_client(self, **options) -> HttpClient:
        return super().http_client(headers={"Stripe-Version": API_VERSION}, retryable=_stripe_should_retry, **options)

    # --- webhooks ---------------------------------------------------------------------------------

    def verify_signature(self, *, body: bytes, headers: Mapping[str, str]) -> None:
        stripe_signature_verify(body=body, headers=headers, secret=self.creds.webhook_secret, now=self.clock())

    def delivery_id(self, *, body: bytes, headers: Mapping[str, str], payload: dict) -> str:
        # The event id (`evt_…`): every retry of an event resends it.
        return str(payload.get("id") or "")[:255] or sha256_hex(body)

    def event_type(self, *, payload: dict) -> str:
        return str(payload.get("type") or "")[:100]

    def parse_event(self, *, body: bytes, headers: Mapping[str, str]) -> ParsedEvent:
        """Offline, except for a refund or dispute (the API says which order its payment paid for) and for an
        invoice with discounts (the API says their codes)."""
        payload = json_body(body)
        return mapping.event_from(self._discounts_expanded(payload), self._order_of_payment)

    def _discounts_expanded(self, event: dict) -> dict:
        """An invoice event with its discounts as a fetched or listed invoice has them: webhook, events and
        lists then give an order the same codes, and the codes partners own rather than `di_…` ids."""
        invoice = mapping.unexpanded_invoice(event)
        if not invoice:
            return event
        discounts = self.http.get_json(f"invoices/{invoice}", params={"expand[]": DISCOUNTS_EXPANDED}).get("discounts")
        data = event["data"]
        return {**event, "data": {**data, "object": {**data["object"], "discounts": discounts or []}}}

    def _order_of_payment(self, payment_intent: str, charge: str) -> mapping.OrderRef:
        """The order a payment paid for (refunds and disputes name only the payment): the invoice that lists
        the payment intent among its payments, else the one-time Checkout Session that made it, else the
        payment itself (a payment TrackRev holds no order for)."""
        key = (payment_intent, charge)
        if key not in self._orders_by_payment:
            self._orders_by_payment[key] = self._order_lookup(payment_intent) or mapping.OrderRef(
                external_id=payment_intent or charge, gross=0, net=0
            )
        return self._orders_by_payment[key]

    def _order_lookup(self, payment_intent: str) -> mapping.OrderRef | None:
        if not payment_intent:
            return None
        payments = self.http.get_json(
            "invoice_payments",
            params={
                "payment[type]": "payment_intent",
                "payment[payment_intent]": payment_intent,
                "expand[]": "data.invoice",
                "limit": 1,
            },
        ).get("data")
        if payments and isinstance(payments[0].get("invoice"), dict):
            return mapping.invoice_ref(payments[0]["invoice"])
        sessions = self._sessions_of(payment_intent)
        return mapping.session_ref(sessions[0]) if sessions else None

    def _sessions_of(self, payment_intent: str) -> list[dict]:
        return (
            self.http.get_json("checkout/sessions", params={"payment_intent": payment_intent, "limit": 1}).get("data")
            or []
        )

    # --- the reconcile poll -----------------------------------------------------------------------

    def _list(self, path: str, params: list[tuple[str, object]]) -> Iterator[tuple[list[dict], bool]]:
        """A list's pages, newest first: (objects, has_more)."""
        cursor = None
        while True:
            after = [("starting_after", cursor)] if cursor else []
            body = self.http.get_json(path, params=[*params, ("limit", PAGE_SIZE), *after])
            items = body.get("data") or []
            has_more = bool(body.get("has_more")) and bool(items)
            yield items, has_more
            if not has_more:
                return
            cursor = items[-1]["id"]

    def _object_pages(self, path: str, params: list, resource: str, parse) -> Iterator[ChangesPage]:
        for page, (items, has_more) in enumerate(self._list(path, params), 1):
            changes = tuple(map(readable(parse), items))
            yield ChangesPage(resource=resource, page=page, pages=page + has_more, changes=changes)

    def list_changes(self, *, since: datetime) -> Iterator[ChangesPage]:
        now = self.clock()
        created = [("created[gte]", int(since.timestamp()))]
        # Subscriptions first: every one not canceled, in its current state (the adapter contract).
        yield from self._object_pages("subscriptions", [], "open subscriptions", mapping.subscription_from)
        if since > now - EVENTS_REACH:
            yield from self._event_pages(created)
            return
        # Beyond the events' reach (a new connection's backfill): the objects as they are now.
        at = now

        def moved(parse):
            return lambda item: parse(item, self._order_of_payment, at)

        yield from self._object_pages(
            "subscriptions", [("status", "canceled"), *created], "canceled subscriptions", mapping.subscription_from
        )
        yield from self._object_pages("customers", created, "customers", lambda item: mapping.customer_from(item, at))
        yield from self._object_pages(
            "checkout/sessions", [("status", "complete"), *created], "checkout sessions", mapping.session_from
        )
        invoices = [("status", "paid"), ("expand[]", f"data.{DISCOUNTS_EXPANDED}"), *created]
        yield from self._object_pages("invoices", invoices, "invoices", mapping.invoice_from)
        yield from self._object_pages("refunds", created, "refunds", moved(mapping.refund_from))
        yield from self._object_pages("disputes", created, "disputes", moved(mapping.dispute_from))

    def _event_pages(self, created: list) -> Iterator[ChangesPage]:
        """The window's events, applied oldest first: Stripe lists them newest first, and two states of an
        object with the same timestamp (a subscription that fell past due in its period) are told apart only
        by the order of their events."""
        types = [("types[]", event_type) for event_type in sorted(mapping.EVENTS)]
        events = [event for items, _ in self._list("events", [*types, *created]) for event in items]
        events.reverse()
        pages = max(1, -(-len(events) // PAGE_SIZE))
        parse = readable(
            lambda event: mapping.event_from(self._discounts_expanded(event), self._order_of_payment).changes[0]
        )
        for page in range(pages):
            chunk = events[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            yield ChangesPage(resource="events", page=page + 1, pages=pages, changes=tuple(map(parse, chunk)))

    # --- single objects ---------------------------------------------------------------------------

    def fetch_order(self, *, external_id: str) -> NormalizedOrder:
        if external_id.startswith("in_"):
            invoice = self.http.get_json(f"invoices/{external_id}", params={"expand[]": DISCOUNTS_EXPANDED})
            change = mapping.invoice_from(invoice)
        else:
            sessions = self._sessions_of(external_id)
            if not sessions:
                raise ProcessorRejected(
                    f"no checkout session for {external_id}", failure=Failure.NOT_FOUND, status_code=404
                )
            change = mapping.session_from(sessions[0])
        return fetched_order(change, external_id)

    def fetch_subscription(self, *, external_id: str) -> NormalizedSubscription:
        change = mapping.subscription_from(self.http.get_json(f"subscriptions/{external_id}"))
        return fetched_subscription(change, external_id)

    def check_credentials(self) -> None:
        body = self.http.get_json("events", params={"limit": 1})
        if body.get("object") != "list":
            raise ProcessorRejected(
                "the API answered, but not like Stripe's events list", failure=Failure.UNEXPECTED_ANSWER
            )
