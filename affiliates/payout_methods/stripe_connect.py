"""The operator's Stripe account as the platform (docs.stripe.com/api, API 2026-06-24.dahlia): a month's
payouts for one workspace become one invoice to that workspace and, once it is paid, one Connect transfer
per partner.

Every POST carries an `Idempotency-Key`: a retry with the same key within Stripe's 24 hours replays the
first answer instead of acting twice. A call of several steps derives one key per step from the caller's."""

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import requests

from affiliates.payout_methods.http import ApiClient

STRIPE_API = "https://api.stripe.com"
API_VERSION = "2026-06-24.dahlia"  # the version the product's processor adapter pins; these shapes are its


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    status: str
    amount_due: int
    currency: str
    hosted_invoice_url: str


@dataclass(frozen=True)
class StripeTransfer:
    id: str
    amount: int
    currency: str
    destination: str


class StripeConnectPayouts(ApiClient):
    name = "Stripe"

    def __init__(
        self,
        api_key: str,
        base_url: str = STRIPE_API,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 15),
    ):
        super().__init__(base_url=base_url, session=session, timeout=timeout)
        self.api_key = api_key

    def customer_create(self, *, email: str, name: str, metadata: dict, idempotency_key: str) -> str:
        params = {"email": email, "name": name, "metadata": metadata}
        return self._post("/v1/customers", params, idempotency_key, lambda answer: str(answer["id"]))

    def invoice_create(
        self,
        *,
        customer: str,
        currency: str,
        lines: Sequence[tuple[str, int]],
        metadata: dict,
        days_until_due: int,
        idempotency_key: str,
    ) -> StripeInvoice:
        """A draft that takes no pending invoice items and never advances by itself, one invoice item per
        line `(description, amount_minor)`, then finalized and sent: the invoice as sent."""
        currency = currency.lower()
        draft = self._post(
            "/v1/invoices",
            {
                "customer": customer,
                "currency": currency,
                "collection_method": "send_invoice",
                "days_until_due": days_until_due,
                "auto_advance": False,
                "pending_invoice_items_behavior": "exclude",
                "metadata": metadata,
            },
            f"{idempotency_key}:invoice",
            _invoice,
        )
        for number, (description, amount_minor) in enumerate(lines):
            self._post(
                "/v1/invoiceitems",
                {
                    "customer": customer,
                    "invoice": draft.id,
                    "amount": amount_minor,
                    "currency": currency,
                    "description": description,
                },
                f"{idempotency_key}:item:{number}",
                lambda answer: answer["id"],
            )
        path = f"/v1/invoices/{quote(draft.id, safe='')}"
        self._post(f"{path}/finalize", {}, f"{idempotency_key}:finalize", _invoice)
        return self._post(f"{path}/send", {}, f"{idempotency_key}:send", _invoice)

    def invoice_get(self, invoice_id: str) -> StripeInvoice:
        response = self.send("GET", f"/v1/invoices/{quote(invoice_id, safe='')}", headers=self._headers())
        return self.read(response, _invoice)

    def transfer_create(
        self,
        *,
        amount_minor: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict,
        idempotency_key: str,
    ) -> StripeTransfer:
        params = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        return self._post("/v1/transfers", params, idempotency_key, _transfer)

    def _post(self, path: str, params: dict, idempotency_key: str, parse):
        headers = {**self._headers(), "Idempotency-Key": idempotency_key}
        return self.read(self.send("POST", path, data=form_fields(params), headers=headers), parse)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Stripe-Version": API_VERSION}

    def error_name(self, body: dict) -> str:
        error = body.get("error") or {}
        return "/".join(str(part) for part in (error.get("type"), error.get("code")) if part)

    def retriable(self, response: requests.Response, body: dict) -> bool:
        """Stripe's own word first (`Stripe-Should-Retry`), then its error type, then the status."""
        should_retry = response.headers.get("Stripe-Should-Retry")
        if should_retry in ("true", "false"):
            return should_retry == "true"
        if (body.get("error") or {}).get("type") == "api_error":
            return True
        return super().retriable(response, body)


def form_fields(params: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested keys as `metadata[key]`, booleans as `true`/`false`."""
    fields: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            fields.extend(form_fields(value, name))
        elif isinstance(value, bool):
            fields.append((name, "true" if value else "false"))
        else:
            fields.append((name, str(value)))
    return fields


def _invoice(answer: dict) -> StripeInvoice:
    return StripeInvoice(
        id=str(answer["id"]),
        status=str(answer["status"]),
        amount_due=int(answer["amount_due"]),
        currency=str(answer["currency"]),
        hosted_invoice_url=str(answer.get("hosted_invoice_url") or ""),
    )


def _transfer(answer: dict) -> StripeTransfer:
    return StripeTransfer(
        id=str(answer["id"]),
        amount=int(answer["amount"]),
        currency=str(answer["currency"]),
        destination=str(answer["destination"]),
    )
