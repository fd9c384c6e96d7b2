"""A local fake of Stripe's REST API v1 on 127.0.0.1 (a real HTTP server in a thread), for the contract and
reconcile tests. Lists follow shared/reference/stripe-paddle-lemonsqueezy.md §1.4: `{object: "list", data,
has_more, url}`, newest first, `limit` 1 to 100, `starting_after` cursors, `created[gte]`; `GET /v1/events` takes
up to 20 `types[]`. Every request must pin the API version the fake's shapes are (`Stripe-Version`)."""

import copy
import datetime as dt
import itertools

from tests.integrations.fake_api import Answer, FakeApi
from tests.integrations.stripe import as_event, discount, payload, unix

API_VERSION = "2026-06-24.dahlia"
MAX_LIMIT = 100
MAX_TYPES = 20
LISTS = {
    "events": "events",
    "subscriptions": "subscriptions",
    "invoices": "invoices",
    "checkout/sessions": "sessions",
    "refunds": "refunds",
    "disputes": "disputes",
    "customers": "customers",
    "invoice_payments": "invoice_payments",
}
SINGLE = {"subscriptions", "invoices"}


def _error(code: int, message: str) -> Answer:
    return code, {"error": {"type": "invalid_request_error", "message": message}}, {}


class FakeStripe(FakeApi):
    prefix = "/v1"
    not_found = {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such object"}}
    unauthorized = {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: rk_test_****"}}

    def __init__(self, *, token: str):
        super().__init__(token=token)
        self._ids = itertools.count(1)
        self.should_retry = ""  # the `Stripe-Should-Retry` header of a failing list's 500, when set
        for name in LISTS.values():
            setattr(self, name, [])
        self.discount_objects: dict[str, dict] = {}  # by id: invoices name them, expansion shows them

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_1Fk{next(self._ids):018d}"

    # --- data -------------------------------------------------------------------------------------
    def add_event(self, event_type: str, obj: dict, created: dt.datetime, template: str | None = None) -> dict:
        event = as_event(template or event_type, obj, id=self.new_id("evt"), type=event_type, created=unix(created))
        event.pop("request", None)
        self.events.append(event)
        return event

    def add_subscription(self, *, started: dt.datetime, visitor: str = "", customer: str = "", **fields) -> dict:
        sub = payload("customer.subscription.created")["data"]["object"]
        period = sub["items"]["data"][0]
        sub.update(
            id=self.new_id("sub"),
            created=unix(started),
            start_date=unix(started),
            billing_cycle_anchor=unix(started),
            customer=customer or self.new_id("cus"),
            metadata={"trackrev_visitor_id": visitor} if visitor else {},
            latest_invoice=None,
            **fields,
        )
        period.update(
            id=self.new_id("si"),
            subscription=sub["id"],
            created=unix(started),
            current_period_start=unix(started),
            current_period_end=unix(started + dt.timedelta(days=30)),
        )
        self.subscriptions.append(sub)
        self.add_event("customer.subscription.created", sub, started + dt.timedelta(seconds=2))
        return sub

    def add_invoice(
        self,
        *,
        created: dt.datetime,
        subscription: dict | None = None,
        billing_reason: str = "subscription_create",
        event: bool = True,
        **fields,
    ) -> dict:
        """A paid invoice (of `subscription`, else of a subscription of its own), its payment (`pi_…`, listed
        by `/v1/invoice_payments`) and its `invoice.paid` event."""
        invoice = payload("invoice.paid")["data"]["object"]
        subscription_id = subscription["id"] if subscription else self.new_id("sub")
        stamp = unix(created)
        invoice.update(
            id=self.new_id("in"),
            created=stamp,
            effective_at=stamp + 1,
            billing_reason=billing_reason,
            customer=subscription["customer"] if subscription else self.new_id("cus"),
            parent={
                "quote_details": None,
                "type": "subscription_details",
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]) if subscription else {},
                    "subscription": subscription_id,
                },
            },
            status_transitions={
                "finalized_at": stamp + 1,
                "marked_uncollectible_at": None,
                "paid_at": stamp + 3,
                "voided_at": None,
            },
            **fields,
        )
        invoice["lines"]["data"][0].update(invoice=invoice["id"], metadata={})
        invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
        self.invoices.append(invoice)
        self.add_invoice_payment(invoice)
        if event:
            self.add_event("invoice.paid", invoice, created + dt.timedelta(seconds=4))
        return invoice

    def add_discounted_invoice(self, *, created: dt.datetime) -> dict:
        """A paid invoice that used a promotion code (payloads/stripe/invoice_paid_discounted.json), naming its
        Discount by id as Stripe does; expanded, the Discount is payloads/stripe/discount.json."""
        discounted = payload("invoice_paid_discounted")["data"]["object"]
        (discount_id,) = discounted["discounts"]
        self.discount_objects[discount_id] = discount()
        money = ("amount_due", "amount_paid", "total", "total_excluding_tax", "total_discount_amounts", "total_taxes")
        fields = {field: discounted[field] for field in money}
        return self.add_invoice(created=created, discounts=[discount_id], **fields)

    def rendered(self, invoice: dict, expand: list[str], prefix: str = "") -> dict:
        """An invoice as the API answers it: its discounts with their promotion codes when asked for
        `discounts.promotion_code` (`data.` before it in a list)."""
        if f"{prefix}discounts.promotion_code" in expand:
            invoice["discounts"] = [copy.deepcopy(self.discount_objects[d]) for d in invoice["discounts"]]
        return invoice

    def add_invoice_payment(self, invoice: dict, payment_intent: str = "") -> str:
        """`invoice` paid by `payment_intent` (a new one by default), as `/v1/invoice_payments` lists it."""
        payment_intent = payment_intent or self.new_id("pi")
        self.invoice_payments.append(
            {
                "id": self.new_id("inpay"),
                "object": "invoice_payment",
                "amount_paid": invoice["amount_paid"],
                "amount_requested": invoice["amount_due"],
                "created": invoice["created"] + 1,
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "livemode": True,
                "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                "status": "paid",
                "status_transitions": {"canceled_at": None, "paid_at": invoice["status_transitions"]["paid_at"]},
            }
        )
        return payment_intent

    def payment_of(self, invoice: dict) -> str:
        return next(p["payment"]["payment_intent"] for p in self.invoice_payments if p["invoice"] == invoice["id"])

    def add_subscription_checkout(self, *, created: dt.datetime, visitor: str, subscription: dict) -> dict:
        """The Checkout Session that started `subscription`, its visitor id in metadata only (as most shops pass
        it: not on the subscription), and its `checkout.session.completed` event."""
        session = payload("checkout.session.completed")["data"]["object"]
        session.update(
            id=self.new_id("cs_live"),
            created=unix(created),
            client_reference_id=visitor,
            metadata={"trackrev_visitor_id": visitor},
            customer=subscription["customer"],
            subscription=subscription["id"],
            invoice=subscription["latest_invoice"],
        )
        self.sessions.append(session)
        self.add_event("checkout.session.completed", session, created + dt.timedelta(seconds=50))
        return session

    def add_one_time_checkout(self, *, created: dt.datetime, visitor: str, **fields) -> dict:
        session = payload("checkout_session_payment")["data"]["object"]
        session.update(
            id=self.new_id("cs_live"),
            created=unix(created),
            payment_intent=self.new_id("pi"),
            metadata={"trackrev_visitor_id": visitor},
            **fields,
        )
        self.sessions.append(session)
        self.add_event(
            "checkout.session.completed", session, created + dt.timedelta(seconds=30), "checkout_session_payment"
        )
        return session

    def add_refund(self, *, payment_intent: str, amount: int, currency: str, created: dt.datetime) -> dict:
        refund = payload("refund.created")["data"]["object"]
        refund.update(
            id=self.new_id("re"),
            amount=amount,
            currency=currency,
            payment_intent=payment_intent,
            charge=self.new_id("ch"),
            created=unix(created),
        )
        self.refunds.append(refund)
        self.add_event("refund.created", refund, created + dt.timedelta(seconds=1))
        return refund

    # --- HTTP -------------------------------------------------------------------------------------
    def refused(self, resource: str, page: int) -> Answer | None:
        answer = super().refused(resource, page)
        if answer and answer[0] == 500 and self.should_retry:
            return answer[0], answer[1], {"stripe-should-retry": self.should_retry}
        return answer

    def route(self, path: list[str], query: dict, headers) -> Answer:
        if headers.get("Stripe-Version") != API_VERSION:
            return _error(400, f"this fake serves API version {API_VERSION} only")
        joined = "/".join(path)
        if joined in LISTS:
            return self._list(LISTS[joined], query)
        if len(path) == 2 and path[0] in SINGLE:
            found = [item for item in getattr(self, path[0]) if item["id"] == path[1]]
            if not found:
                return 404, self.not_found, {}
            item = copy.deepcopy(found[0])
            return 200, self.rendered(item, query.get("expand[]", [])) if path[0] == "invoices" else item, {}
        return 404, self.not_found, {}

    def _list(self, resource: str, query: dict) -> Answer:
        first = {key: values[0] for key, values in query.items()}
        limit = int(first.get("limit", "10"))
        if not 1 <= limit <= MAX_LIMIT:
            return _error(400, "limit must be between 1 and 100")
        if len(query.get("types[]", [])) > MAX_TYPES:
            return _error(400, "types[] takes at most 20 event types")
        # Newest first; the later of two objects created in the same second first, as Stripe lists them.
        items = sorted(enumerate(self._filter(resource, query, first)), key=lambda pair: (pair[1]["created"], pair[0]))
        items = [item for _, item in reversed(items)]
        start = 0
        if "starting_after" in first:
            ids = [item["id"] for item in items]
            if first["starting_after"] not in ids:
                return _error(400, "starting_after names no object of this list")
            start = ids.index(first["starting_after"]) + 1
        if refused := self.refused(resource, start // limit + 1):
            return refused
        window = copy.deepcopy(items[start : start + limit])
        if resource == "invoices":
            window = [self.rendered(item, query.get("expand[]", []), "data.") for item in window]
        if resource == "invoice_payments" and "data.invoice" in query.get("expand[]", []):
            for item in window:
                item["invoice"] = copy.deepcopy(next(i for i in self.invoices if i["id"] == item["invoice"]))
        body = {"object": "list", "data": window, "has_more": start + limit < len(items), "url": f"/v1/{resource}"}
        return 200, body, {}

    def _filter(self, resource: str, query: dict, first: dict) -> list[dict]:
        items = getattr(self, resource)
        if "created[gte]" in first:
            items = [item for item in items if item["created"] >= int(first["created[gte]"])]
        if resource == "events" and "types[]" in query:
            items = [item for item in items if item["type"] in query["types[]"]]
        if resource == "subscriptions":
            status = first.get("status")  # none: every subscription not canceled
            if status != "all":
                items = [s for s in items if s["status"] == status or (status is None and s["status"] != "canceled")]
        elif "status" in first:
            items = [item for item in items if item.get("status") == first["status"]]
        if "payment_intent" in first:
            items = [item for item in items if item.get("payment_intent") == first["payment_intent"]]
        if "payment[payment_intent]" in first:
            items = [
                item for item in items if item["payment"].get("payment_intent") == first["payment[payment_intent]"]
            ]
        return items
