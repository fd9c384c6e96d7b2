"""The adapters' HTTP client: explicit timeouts, bounded retries, `Retry-After` honoured on 429/503, no
redirects followed, and errors that never carry the response body."""

import logging
import time
from collections.abc import Callable

import requests

from integrations.processors.errors import Failure, ProcessorRejected, ProcessorUnavailable
from trackrev.common.backoff import backoff_seconds

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 120
REJECTIONS = {401: Failure.TOKEN_REJECTED, 403: Failure.PERMISSION_MISSING, 404: Failure.NOT_FOUND}


class HttpClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        headers: dict[str, str] | None = None,
        retryable: Callable[[requests.Response], bool] | None = None,
        rejection: Callable[[requests.Response], Failure | None] | None = None,
    ):
        """`headers`: what the processor's API asks for besides the token (a version, a media type);
        `retryable`: the processor's own word on whether a failed request may be retried (a header of
        its answer), asked before any retry; by default every RETRY_STATUSES answer is retried;
        `rejection`: the processor's own word on what a refusal means (an error code in its answer, read
        there and never passed on), where its status code says too little; by default REJECTIONS."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.session = session or requests.Session()
        self.retryable = retryable or (lambda response: True)
        self.rejection = rejection or (lambda response: None)
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
        )

    def get_json(self, path: str, *, params: dict | list | None = None) -> dict:
        url = f"{self.base_url}/{path.lstrip('/')}"
        for attempt in range(1, self.max_attempts + 1):
            try:
                # Never follow a redirect: the allow-list checked this URL, not wherever it points.
                response = self.session.get(url, params=params, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                if attempt == self.max_attempts:
                    raise ProcessorUnavailable(f"cannot reach {self.base_url}: {exc.__class__.__name__}") from exc
                self.sleep(self._backoff(attempt))
                continue
            if response.status_code in RETRY_STATUSES:
                if attempt == self.max_attempts or not self.retryable(response):
                    raise ProcessorUnavailable(
                        f"{url} answered {response.status_code} after {attempt} attempts",
                        failure=Failure.RATE_LIMITED if response.status_code == 429 else Failure.PROCESSOR_ERROR,
                    )
                delay = self._retry_after(response) or self._backoff(attempt)
                logger.info("processor %s answered %s, retrying in %.1fs", url, response.status_code, delay)
                self.sleep(delay)
                continue
            if response.status_code >= 300:
                # The body is whatever the URL answered: it never goes into the error, only the debug log.
                logger.debug("processor %s answered %s: %.500r", url, response.status_code, response.text)
                raise ProcessorRejected(
                    f"{url} answered {response.status_code}",
                    failure=self.rejection(response) or self._rejection(response.status_code),
                    status_code=response.status_code,
                )
            try:
                return response.json()
            except ValueError as exc:
                raise ProcessorUnavailable(f"{url} answered non-JSON", failure=Failure.UNEXPECTED_ANSWER) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _rejection(status_code: int) -> Failure:
        if status_code < 400:
            return Failure.REDIRECTED
        return REJECTIONS.get(status_code, Failure.REQUEST_REFUSED)

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        try:
            return min(float(value), MAX_RETRY_AFTER_SECONDS) if value else None
        except ValueError:
            return None

    @staticmethod
    def _backoff(attempt: int) -> float:
        return backoff_seconds(attempt, first=2.0, cap=30.0)
