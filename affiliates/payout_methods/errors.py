class PayoutError(Exception):
    """A payout call that did not succeed. `message` is safe to show staff: a short category, the HTTP
    status and the API's own error name, never a secret or a response body. `retriable`: the same call
    with the same idempotency key (or `sender_batch_id`) may be made again, and cannot pay twice."""

    def __init__(self, message: str, *, retriable: bool):
        super().__init__(message)
        self.message = message
        self.retriable = retriable
