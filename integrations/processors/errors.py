from enum import StrEnum


class Failure(StrEnum):
    """What went wrong with a processor's API, in words the user can act on. The only error text that
    leaves the server (a sync run's `last_error`, pages, API responses): the processor's response body
    never does, since whatever the URL answers could be anyone's data."""

    TOKEN_REJECTED = "Token rejected: check that it is valid and not expired."  # noqa: S105 (a message)
    PERMISSION_MISSING = "Permission missing: give the token the read scopes listed in the setup steps."
    NOT_FOUND = "Not found: check the API base URL, and the account or store id if the connection names one."
    REQUEST_REFUSED = "Request refused by the processor."
    RATE_LIMITED = "Rate limited by the processor: the next sync continues."
    UNREACHABLE = "Processor unreachable: check the API base URL, or try again if the processor is down."
    PROCESSOR_ERROR = "Processor error: it answered with a server error; the next sync tries again."
    REDIRECTED = "Unexpected redirect: the API base URL redirects elsewhere, and redirects are never followed."
    UNEXPECTED_ANSWER = "Unexpected answer: the API base URL does not answer like the processor's API."
    URL_NOT_ALLOWED = "API base URL not allowed: use the processor's production or sandbox API."
    UNREADABLE = "Unreadable data from the processor: the objects concerned were skipped."


class ProcessorError(Exception):
    """Base of every adapter error. The message is for the log; `failure` is what the user sees."""

    failure: Failure = Failure.PROCESSOR_ERROR

    def __init__(self, message: str = "", *, failure: Failure | None = None):
        super().__init__(message or (failure or self.failure).value)
        if failure is not None:
            self.failure = failure


class SignatureInvalid(ProcessorError):
    """Missing, malformed or wrong signature: reject the request, store nothing."""


class SignatureStale(SignatureInvalid):
    """Signature timestamp outside the tolerance window (replay protection)."""


class PayloadInvalid(ProcessorError):
    """A verified payload we cannot read: terminal, keep the inbox row with the error."""

    failure = Failure.UNREADABLE


class ProcessorUnavailable(ProcessorError):
    """Network error, timeout, 5xx or 429 after our retries: transient, retry later."""

    failure = Failure.UNREACHABLE


class ProcessorRejected(ProcessorError):
    """The processor refused the request (4xx: bad token, missing scope) or answered with something we
    never follow (a redirect): terminal until the user acts."""

    failure = Failure.REQUEST_REFUSED

    def __init__(self, message: str = "", *, failure: Failure | None = None, status_code: int | None = None):
        super().__init__(message, failure=failure)
        self.status_code = status_code


class ApiUrlNotAllowed(ProcessorError):
    """The connection names an API base URL outside the allow-list (integrations.processors.api_urls)."""

    failure = Failure.URL_NOT_ALLOWED
