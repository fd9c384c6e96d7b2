"""A local fake of Polar's REST API v1 on 127.0.0.1 (a real HTTP server in a thread), for reconcile
tests and the benchmark. Pagination, filters, sorting and the 429 shape follow shared/reference/polar.md §3."""

import copy
import datetime as dt
import math
import uuid

from tests.integrations.fake_api import Answer, FakeApi
from tests.integrations.polar import iso, payload

MAX_LIMIT = 100
# The subscription statuses Polar's list accepts (polar.md §4); any other value is a 422.
SUBSCRIPTION_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"}
)


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class FakePolar(FakeApi):
    prefix = "/v1"

    def __init__(self, *, token: str):
        super().__init__(token=token)
        self.orders: list[dict] = []
        self.subscriptions: list[dict] = []
        self.refunds: list[dict] = []

    # --- data -------------------------------------------------------------------------------------
    def add_order(self, *, created_at: dt.datetime, **fields) -> dict:
        data = payload("order_created_purchase")["data"]
        data.update(id=str(uuid.uuid4()), created_at=iso(created_at), modified_at=None, **fields)
        self.orders.append(data)
        return data

    def add_subscription(self, *, started_at: dt.datetime, **fields) -> dict:
        data = payload("subscription_updated_revoked")["data"]
        data.update(
            {
                "id": str(uuid.uuid4()),
                "created_at": iso(started_at),
                "started_at": iso(started_at),
                "modified_at": iso(started_at),
                "status": "active",
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ends_at": None,
                "ended_at": None,
                **fields,
            }
        )
        self.subscriptions.append(data)
        return data

    def add_refund(self, *, order: dict, created_at: dt.datetime) -> dict:
        data = payload("refund_created")["data"]
        data.update(id=str(uuid.uuid4()), order_id=order["id"], created_at=iso(created_at), amount=order["net_amount"])
        self.refunds.append(data)
        return data

    # --- HTTP -------------------------------------------------------------------------------------
    def route(self, path: list[str], query: dict, headers) -> Answer:
        if not path or path[0] not in ("orders", "subscriptions", "refunds"):
            return 404, self.not_found, {}
        if len(path) == 2:
            found = [o for o in getattr(self, path[0]) if o["id"] == path[1]]
            return (200, found[0], {}) if found else (404, self.not_found, {})
        return self._list(path[0], query)

    def _list(self, resource: str, query: dict) -> Answer:
        page = int(query.get("page", ["1"])[0])
        limit = min(int(query.get("limit", ["10"])[0]), MAX_LIMIT)
        if refused := self.refused(resource, page):
            return refused
        unknown = sorted(set(query.get("status", [])) - SUBSCRIPTION_STATUSES) if resource == "subscriptions" else []
        if unknown:
            errors = [{"type": "enum", "loc": ["query", "status"], "input": value} for value in unknown]
            return 422, {"error": "RequestValidationError", "detail": errors}, {}
        items = self._filter(resource, query)
        window = items[(page - 1) * limit : page * limit]
        total = len(items)
        body = {
            "items": copy.deepcopy(window),
            "pagination": {"total_count": total, "max_page": math.ceil(total / limit)},
        }
        return 200, body, {}

    def _filter(self, resource: str, query: dict) -> list[dict]:
        # Filters are repeatable (`status=a&status=b` is either); dates are single values.
        first = {key: values[0] for key, values in query.items()}
        if resource == "orders":
            items = self.orders
            if "created_after" in first:
                items = [o for o in items if _dt(o["created_at"]) > _dt(first["created_after"])]
            if "status" in query:
                items = [o for o in items if o["status"] in query["status"]]
            return sorted(items, key=lambda o: o["created_at"], reverse=True)
        if resource == "subscriptions":
            items = self.subscriptions
            if "started_after" in first:
                items = [s for s in items if _dt(s["started_at"]) > _dt(first["started_after"])]
            if "canceled_at_after" in first:
                items = [
                    s for s in items if s["canceled_at"] and _dt(s["canceled_at"]) > _dt(first["canceled_at_after"])
                ]
            if "status" in query:
                items = [s for s in items if s["status"] in query["status"]]
            return sorted(items, key=lambda s: s["started_at"], reverse=True)
        return sorted(self.refunds, key=lambda r: r["created_at"], reverse=True)
