"""PayPal Payouts (batch payouts API v1, developer.paypal.com/api/payments.payouts-batch/v1): one batch
of payouts by email, and its items' states.

`sender_batch_id` is PayPal's idempotency key: a batch with one used in the last 30 days is refused with
400 `USER_BUSINESS_ERROR`, whose `SENDER_BATCH_ID` detail links to the batch that exists. That refusal is
read as the answer to a retry: the existing batch is returned, nothing is paid twice."""

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests

from affiliates.payout_methods.errors import PayoutError
from affiliates.payout_methods.http import ApiClient
from trackrev.common.money import minor_to_decimal

PAYPAL_LIVE = "https://api-m.paypal.com"
PAYPAL_SANDBOX = "https://api-m.sandbox.paypal.com"

PAYOUTS = "/v1/payments/payouts"
PAGE_SIZE = 1000  # the documented maximum of `page_size`
MAX_PAGES = 1000  # the documented maximum of `total_pages`
TOKEN_MARGIN_SECONDS = 60  # a token is renewed this long before PayPal's `expires_in` ends
BATCH_LINK = re.compile(r"/v1/payments/payouts/([A-Za-z0-9]+)")

# Item states (`transaction_status`). UNCLAIMED (no PayPal account yet) is not final: unclaimed for 30 days,
# PayPal returns the funds and the item becomes RETURNED. PENDING and ONHOLD (under review) change too.
FAILED_ITEM_STATUSES = frozenset({"FAILED", "RETURNED", "BLOCKED", "REFUNDED", "REVERSED"})
FINAL_ITEM_STATUSES = frozenset({"SUCCESS"}) | FAILED_ITEM_STATUSES
# Batch states: SUCCESS means every item was processed, not that every item was paid; read the items.
FINAL_BATCH_STATUSES = frozenset({"SUCCESS", "DENIED", "CANCELED"})


@dataclass(frozen=True)
class PayPalItem:
    sender_item_id: str
    receiver_email: str
    amount_minor: int
    currency: str
    note: str


@dataclass(frozen=True)
class PayPalItemStatus:
    sender_item_id: str
    payout_item_id: str
    transaction_status: str
    error: str  # PayPal's `errors.name` for a failed item, "" otherwise


@dataclass(frozen=True)
class PayPalBatch:
    payout_batch_id: str
    batch_status: str
    items: tuple[PayPalItemStatus, ...]


class PayPalPayouts(ApiClient):
    name = "PayPal"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = PAYPAL_LIVE,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10),
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(base_url=base_url, session=session, timeout=timeout)
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self._token: tuple[str, float] | None = None  # (access token, when to stop using it)

    def batch_create(self, *, sender_batch_id: str, items: Sequence[PayPalItem], email_subject: str) -> PayPalBatch:
        """The new batch (its answer lists no items: `batch_get` reads them), or, when `sender_batch_id` was
        already used, the batch it made: a retry after a timeout never pays twice."""
        body = {
            "sender_batch_header": {
                "sender_batch_id": sender_batch_id,
                "email_subject": email_subject,
                "recipient_type": "EMAIL",
            },
            "items": [_item_json(item) for item in items],
        }
        response = self._call("POST", PAYOUTS, json=body)
        existing = _duplicate_batch_id(response)
        if not existing:
            return self.read(response, lambda answer: _page(answer)[0])
        batch, existing_sender_batch_id = self._read_batch(existing)
        if existing_sender_batch_id != sender_batch_id:
            raise PayoutError("PayPal linked a batch of another sender_batch_id", retriable=False)
        return batch

    def batch_get(self, payout_batch_id: str) -> PayPalBatch:
        """The batch with every item, all pages read."""
        return self._read_batch(payout_batch_id)[0]

    def _read_batch(self, payout_batch_id: str) -> tuple[PayPalBatch, str]:
        """The batch with the items of all its pages, and its `sender_batch_id`."""
        path = f"{PAYOUTS}/{quote(payout_batch_id, safe='')}"
        items: list[PayPalItemStatus] = []
        for page in range(1, MAX_PAGES + 1):
            params = {"page": page, "page_size": PAGE_SIZE, "total_required": "true"}
            batch, sender_batch_id, total_pages = self.read(self._call("GET", path, params=params), _page)
            items.extend(batch.items)
            if page >= total_pages:
                break
        return PayPalBatch(batch.payout_batch_id, batch.batch_status, tuple(items)), sender_batch_id

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        """With a cached token; a 401 (a token revoked or expired early) fetches a new one, once."""
        response = self.send(method, path, headers=self._auth(), **kwargs)
        if response.status_code == 401:
            self._token = None
            response = self.send(method, path, headers=self._auth(), **kwargs)
        return response

    def _auth(self) -> dict[str, str]:
        if self._token is None or self.clock() >= self._token[1]:
            self._token = self._fetch_token()
        return {"Authorization": f"Bearer {self._token[0]}", "Accept": "application/json"}

    def _fetch_token(self) -> tuple[str, float]:
        """OAuth 2.0 client credentials: the client id and secret as basic auth."""
        asked_at = self.clock()
        response = self.send(
            "POST",
            "/v1/oauth2/token",
            auth=(self.client_id, self.client_secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        return self.read(
            response,
            lambda answer: (
                str(answer["access_token"]),
                asked_at + max(0.0, float(answer["expires_in"]) - TOKEN_MARGIN_SECONDS),
            ),
        )

    def error_name(self, body: dict) -> str:
        # REST errors have a `name`; the OAuth endpoint answers with `error` (`invalid_client`).
        return body.get("name") or body.get("error") or ""


def _item_json(item: PayPalItem) -> dict:
    currency = item.currency.upper()
    return {
        "recipient_type": "EMAIL",
        # The currency's own exponent: PayPal refuses decimals for JPY.
        "amount": {"value": str(minor_to_decimal(item.amount_minor, currency)), "currency": currency},
        "receiver": item.receiver_email,
        "note": item.note,
        "sender_item_id": item.sender_item_id,
    }


def _page(answer: dict) -> tuple[PayPalBatch, str, int]:
    """One page of a batch: the batch with this page's items, its `sender_batch_id`, the number of pages."""
    header = answer["batch_header"]
    batch = PayPalBatch(
        payout_batch_id=str(header["payout_batch_id"]),
        batch_status=str(header["batch_status"]),
        items=tuple(_item_status(item) for item in answer.get("items") or ()),
    )
    return batch, str(header["sender_batch_header"].get("sender_batch_id", "")), int(answer.get("total_pages") or 1)


def _item_status(item: dict) -> PayPalItemStatus:
    status = str(item["transaction_status"])
    error = (item.get("errors") or {}).get("name", "") if status in FAILED_ITEM_STATUSES else ""
    return PayPalItemStatus(
        sender_item_id=str(item["payout_item"].get("sender_item_id", "")),
        payout_item_id=str(item["payout_item_id"]),
        transaction_status=status,
        error=str(error),
    )


def _duplicate_batch_id(response: requests.Response) -> str:
    """The batch a refused `sender_batch_id` already made, from the link in the refusal's `SENDER_BATCH_ID`
    detail (or the error's own links); "" for any other answer. Only its id is read: the batch is then
    fetched from our base URL, never from a host an answer names."""
    if response.status_code != 400:
        return ""
    try:
        body = response.json()
        if body.get("name") != "USER_BUSINESS_ERROR":
            return ""
        details = [d for d in body.get("details") or () if str(d.get("field", "")).upper() == "SENDER_BATCH_ID"]
        links = [link for detail in details for link in detail.get("link") or ()]
        hrefs = [str(link.get("href", "")) for link in links + (list(body.get("links") or ()) if details else [])]
    except (ValueError, AttributeError, TypeError):
        return ""
    for href in hrefs:
        match = BATCH_LINK.fullmatch(urlsplit(href).path)
        if match:
            return match.group(1)
    return ""
