class ProcessorError(Exception):
    """Base of every adapter error."""


class SignatureInvalid(ProcessorError):
    """Missing, malformed or wrong signature: reject the request, store nothing."""


class SignatureStale(SignatureInvalid):
    """Signature timestamp outside the tolerance window (replay protection)."""


class PayloadInvalid(ProcessorError):
    """A verified payload we cannot read: terminal, keep the inbox row with the error."""


class ProcessorUnavailable(ProcessorError):
    """Network error, timeout, 5xx or 429 after our retries: transient, retry later."""


class ProcessorRejected(ProcessorError):
    """The processor refused the request (4xx: bad token, missing scope): terminal until the user acts."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code
