"""A local fake of Paddle Billing's REST API on 127.0.0.1 (a real HTTP server in a thread), for the contract
kit and reconcile tests. Cursor pagination (`after`, `per_page`, `meta.pagination`), the comma-separated
filters, `include=customer,discount` and the error shapes follow shared/reference/stripe-paddle-lemonsqueezy.md §2.4."""

import copy
import datetime as dt
import itertools
from urllib.parse import urlencode

from tests.integrations.fake_api import Answer, FakeApi
from tests.integrations.paddle import DISCOUNTED, discount, iso, payload

MAX_PER_PAGE = 200  # asked for more, Paddle answers its maximum (and says so in meta.pagination.per_page)
RESOURCES = {"transactions": "txn", "subscriptions": "sub", "adjustments": "adj", "customers": "ctm"}


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _error(code: str, detail: str) -> dict:
    return {"error": {"type": "request_error", "code": code, "detail": detail}, "meta": {"request_id": "fake"}}


class FakePaddle(FakeApi):
    not_found = _error("not_found", "Entity not found")
    # A wrong or revoked key: 403, like a missing permission, told apart by the code.
    unauthorized = _error("invalid_token", "Invalid or revoked API key.")
    unauthorized_status = 403

    def __init__(self, *, token: str):
        super().__init__(token=token)
        self.retry_after = "3"
        self.data: dict[str, list[dict]] = {resource: [] for resource in RESOURCES}
        self._ids = itertools.count(1)
        self.forbidden: set[str] = set()  # resources the key has no permission for
        self.discounts: list[dict] = []  # listed with the transactions that use them (`include=discount`)

    @property
    def transactions(self) -> list[dict]:
        return self.data["transactions"]

    def _id(self, resource: str) -> str:
        # Paddle's ids sort in creation order (which `order_by=id[...]` and `after` rely on).
        return f"{RESOURCES[resource]}_01j{next(self._ids):023d}"

    # --- data -------------------------------------------------------------------------------------
    def add_customer(self, **fields) -> dict:
        data = payload("customer.created")["data"]
        data.update(id=self._id("customers"), **fields)
        self.data["customers"].append(data)
        return data

    def add_transaction(self, *, updated_at: dt.datetime, customer: dict | None = None, **fields) -> dict:
        customer = customer or self.add_customer(email=f"buyer{len(self.transactions)}@example.com")
        data = payload("transaction.completed")["data"]
        data.update(
            {
                "id": self._id("transactions"),
                "customer_id": customer["id"],
                "subscription_id": None,
                "created_at": iso(updated_at - dt.timedelta(minutes=2)),
                "billed_at": iso(updated_at - dt.timedelta(seconds=2)),
                "updated_at": iso(updated_at),
                **fields,
            }
        )
        self.transactions.append(data)
        return data

    def add_discounted_transaction(self, *, updated_at: dt.datetime) -> dict:
        """A transaction that used a discount with a code (payloads/paddle/discounted), and its discount."""
        discounted = payload(DISCOUNTED)["data"]
        self.discounts.append(discount())
        return self.add_transaction(
            updated_at=updated_at, discount_id=discounted["discount_id"], details=discounted["details"]
        )

    def add_subscription(self, *, started_at: dt.datetime, **fields) -> dict:
        data = payload("subscription.activated")["data"]
        period_end = started_at + dt.timedelta(days=30)
        data.update(
            {
                "id": self._id("subscriptions"),
                "created_at": iso(started_at),
                "started_at": iso(started_at),
                "updated_at": iso(started_at),
                "current_billing_period": {"starts_at": iso(started_at), "ends_at": iso(period_end)},
                **fields,
            }
        )
        self.data["subscriptions"].append(data)
        return data

    def add_adjustment(self, *, transaction: dict, created_at: dt.datetime, **fields) -> dict:
        data = payload("adjustment.updated")["data"]
        net, tax = int(transaction["details"]["totals"]["subtotal"]), int(transaction["details"]["totals"]["tax"])
        data.update(
            {
                "id": self._id("adjustments"),
                "transaction_id": transaction["id"],
                "subscription_id": transaction["subscription_id"],
                "customer_id": transaction["customer_id"],
                "type": "full",
                "items": [],
                "totals": {**data["totals"], "subtotal": str(net), "tax": str(tax), "total": str(net + tax)},
                "created_at": iso(created_at),
                "updated_at": iso(created_at + dt.timedelta(minutes=5)),
                **fields,
            }
        )
        self.data["adjustments"].append(data)
        return data

    def rendered(self, resource: str, item: dict, includes: set[str]) -> dict:
        """An object as the API answers it: a transaction with its customer when `include=customer`, and its
        discount when `include=discount`."""
        item = copy.deepcopy(item)
        if resource == "transactions" and "customer" in includes:
            item["customer"] = next(c for c in self.data["customers"] if c["id"] == item["customer_id"])
        if resource == "transactions" and "discount" in includes and item["discount_id"]:
            item["discount"] = next(d for d in self.discounts if d["id"] == item["discount_id"])
        return item

    # --- HTTP -------------------------------------------------------------------------------------
    def route(self, path: list[str], query: dict, headers) -> Answer:
        if headers.get("Paddle-Version") != "1":
            return 400, _error("invalid_version", "Paddle-Version header missing"), {}
        if not path or path[0] not in RESOURCES or len(path) > 2:
            return 404, self.not_found, {}
        if path[0] in self.forbidden:
            return 403, _error("forbidden", "You aren't permitted to perform this request."), {}
        first = {key: values[0] for key, values in query.items()}
        includes = set(filter(None, first.get("include", "").split(",")))
        if len(path) == 2:
            found = [item for item in self.data[path[0]] if item["id"] == path[1]]
            if not found:
                return 404, self.not_found, {}
            return 200, {"data": self.rendered(path[0], found[0], includes), "meta": {"request_id": "fake"}}, {}
        return self._list(path[0], first, includes)

    def _list(self, resource: str, first: dict, includes: set[str]) -> Answer:
        per_page = min(int(first.get("per_page", "50")), MAX_PER_PAGE)
        items = self._filter(resource, first)
        descending = first.get("order_by", "id[ASC]") == "id[DESC]"
        items.sort(key=lambda item: item["id"], reverse=descending)
        after = first.get("after")
        before = [item for item in items if after and (item["id"] >= after if descending else item["id"] <= after)]
        if refused := self.refused(resource, len(before) // per_page + 1):
            return refused
        rest = items[len(before) :]
        window, has_more = rest[:per_page], len(rest) > per_page
        cursor = {key: value for key, value in first.items() if key != "after"}
        # The full URL of the next page, on Paddle's own host: the adapter may take only its query.
        next_url = None
        if window:
            next_url = f"https://api.paddle.com/{resource}?{urlencode({**cursor, 'after': window[-1]['id']})}"
        meta = {
            "request_id": "fake",
            "pagination": {"per_page": per_page, "next": next_url, "has_more": has_more, "estimated_total": len(items)},
        }
        return 200, {"data": [self.rendered(resource, item, includes) for item in window], "meta": meta}, {}

    def _filter(self, resource: str, first: dict) -> list[dict]:
        items = list(self.data[resource])
        if "status" in first:
            statuses = set(first["status"].split(","))
            items = [item for item in items if item["status"] in statuses]
        if "updated_at[GT]" in first:
            after = _dt(first["updated_at[GT]"])
            items = [item for item in items if _dt(item["updated_at"]) > after]
        return items
