"""What both payout clients share: one request with a timeout and no redirect followed, and failures as
`PayoutError` carrying the status and the API's own error name, never the body."""

import re
from collections.abc import Callable
from typing import TypeVar

import requests

from affiliates.payout_methods.errors import PayoutError

T = TypeVar("T")

# An error name is echoed only when it looks like one: anything else in an answer could be anyone's data.
ERROR_NAME = re.compile(r"[A-Za-z0-9_.\-/]{1,80}")


class ApiClient:
    name = ""  # the API's name in messages

    def __init__(self, *, base_url: str, session: requests.Session | None, timeout: tuple[float, float]):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        """Any answer but a redirect: a network error or a timeout is retriable (the keys make a retry safe)."""
        try:
            # Never follow a redirect: the credentials were meant for this host only.
            response = self.session.request(
                method, f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            raise PayoutError(f"{self.name} unreachable: {exc.__class__.__name__}", retriable=True) from exc
        if 300 <= response.status_code < 400:
            raise PayoutError(f"{self.name} answered a redirect ({response.status_code})", retriable=False)
        return response

    def read(self, response: requests.Response, parse: Callable[[dict], T]) -> T:
        """The parsed answer, or the failure it reports. An answer we cannot read leaves the outcome unknown:
        only a retry with the same key can learn it, so that is retriable."""
        if response.status_code >= 300:
            raise self.failure(response)
        try:
            return parse(response.json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PayoutError(
                f"{self.name} answered {response.status_code} in an unexpected shape", retriable=True
            ) from exc

    def failure(self, response: requests.Response) -> PayoutError:
        try:
            body = response.json()
        except ValueError:
            body = None
        name = self.error_name(body) if isinstance(body, dict) else ""
        name = name if isinstance(name, str) and ERROR_NAME.fullmatch(name) else ""
        return PayoutError(
            f"{self.name} answered {response.status_code}{f' {name}' if name else ''}",
            retriable=self.retriable(response, body if isinstance(body, dict) else {}),
        )

    def error_name(self, body: dict) -> str:
        """The API's own name for the error in its answer."""
        raise NotImplementedError

    def retriable(self, response: requests.Response, body: dict) -> bool:
        return response.status_code == 429 or response.status_code >= 500
