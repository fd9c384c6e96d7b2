"""Sending PayPal and Stripe payout batches and following them until final (filled in next)."""


def payout_batch_send(*, batch_id: int) -> None:
    """Placeholder replaced by the PayPal and Stripe senders."""
