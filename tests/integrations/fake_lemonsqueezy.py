"""A local fake of Lemon Squeezy's REST API v1 on 127.0.0.1 (a real HTTP server in a thread), for the
contract and reconcile tests. JSON:API lists (`page[number]`, `page[size]` ≤ 100, `meta.page`, `links`),
`filter[store_id]` and `filter[status]`, newest first, as shared/reference/stripe-paddle-lemonsqueezy.md §3.4
and the lemonsqueezy.js types describe them; fetch by id answers `{"data": resource}`."""

import copy
import datetime as dt
import itertools
import math
from urllib.parse import urlencode

from tests.integrations.fake_api import Answer, FakeApi
from tests.integrations.lemonsqueezy import iso, resource

MAX_PAGE_SIZE = 100
RESOURCES = ("orders", "subscriptions", "subscription-invoices")


def _errors(status: int, title: str, detail: str) -> dict:
    return {"jsonapi": {"version": "1.0"}, "errors": [{"detail": detail, "status": str(status), "title": title}]}


class FakeLemonSqueezy(FakeApi):
    prefix = "/v1"
    not_found = _errors(404, "Not Found", "The requested resource could not be found.")
    unauthorized = _errors(401, "Unauthorized", "Unauthenticated.")

    def __init__(self, *, token: str):
        super().__init__(token=token)
        self.data: dict[str, list[dict]] = {name: [] for name in RESOURCES}
        self._ids = itertools.count(5_000_001)  # one sequence per resource in truth; shared here, never relied on

    @property
    def orders(self) -> list[dict]:
        return self.data["orders"]

    @property
    def subscriptions(self) -> list[dict]:
        return self.data["subscriptions"]

    @property
    def invoices(self) -> list[dict]:
        return self.data["subscription-invoices"]

    # --- data -------------------------------------------------------------------------------------
    def _add(self, kind: str, name: str, created_at: dt.datetime, attributes: dict, id_: str | None = None) -> dict:
        stamp = iso(created_at)
        data = resource(name, created_at=stamp, updated_at=stamp)
        data["id"] = id_ or str(next(self._ids))
        data["attributes"].update(attributes)
        data["links"] = {"self": f"https://api.lemonsqueezy.com/v1/{kind}/{data['id']}"}
        self.data[kind].append(data)
        return data

    def add_order(self, *, created_at: dt.datetime, id_: str | None = None, **attributes) -> dict:
        return self._add("orders", "order_created", created_at, attributes, id_)

    def add_subscription(self, *, created_at: dt.datetime, id_: str | None = None, **attributes) -> dict:
        return self._add("subscriptions", "subscription_created", created_at, attributes, id_)

    def add_invoice(self, *, subscription: dict, created_at: dt.datetime, id_: str | None = None, **attributes) -> dict:
        attributes = {"subscription_id": int(subscription["id"]), "billing_reason": "renewal", **attributes}
        return self._add("subscription-invoices", "subscription_payment_success_renewal", created_at, attributes, id_)

    def update(self, data: dict, *, at: dt.datetime, **attributes) -> None:
        data["attributes"].update(attributes, updated_at=iso(at))

    # --- HTTP -------------------------------------------------------------------------------------
    def route(self, path: list[str], query: dict, headers) -> Answer:
        if not path or path[0] not in RESOURCES or len(path) > 2:
            return 404, self.not_found, {}
        if len(path) == 2:
            found = [item for item in self.data[path[0]] if item["id"] == path[1]]
            return (200, {"jsonapi": {"version": "1.0"}, "data": found[0]}, {}) if found else (404, self.not_found, {})
        return self._list(path[0], query)

    def _list(self, kind: str, query: dict) -> Answer:
        first = {key: values[0] for key, values in query.items()}
        number = int(first.get("page[number]", "1"))
        size = min(int(first.get("page[size]", "10")), MAX_PAGE_SIZE)
        if refused := self.refused(kind, number):
            return refused
        items = self._filter(kind, first)
        window = items[(number - 1) * size : number * size]
        last_page = max(1, math.ceil(len(items) / size))

        def link(page: int) -> str:
            return f"https://api.lemonsqueezy.com/v1/{kind}?{urlencode({**first, 'page[number]': page})}"

        links = {"first": link(1), "last": link(last_page)}
        if number < last_page:
            links["next"] = link(number + 1)
        if number > 1:
            links["prev"] = link(number - 1)
        start = (number - 1) * size + 1
        page = {
            "currentPage": number,
            "from": start if window else None,
            "lastPage": last_page,
            "perPage": size,
            "to": start + len(window) - 1 if window else None,
            "total": len(items),
        }
        body = {"meta": {"page": page}, "jsonapi": {"version": "1.0"}, "links": links, "data": copy.deepcopy(window)}
        return 200, body, {}

    def _filter(self, kind: str, first: dict) -> list[dict]:
        items = self.data[kind]
        if "filter[store_id]" in first:
            items = [item for item in items if str(item["attributes"]["store_id"]) == first["filter[store_id]"]]
        if "filter[status]" in first:
            items = [item for item in items if item["attributes"]["status"] == first["filter[status]"]]
        return sorted(items, key=lambda item: (item["attributes"]["created_at"], int(item["id"])), reverse=True)
