"""Exponential backoff with jitter, for everything that retries (HTTP calls, webhook processing,
outbox deliveries): the n-th retry waits a random time in [b/2, b], b = first · 2^(n-1) capped, so
many callers failing together do not retry together."""

import random


def backoff_seconds(attempt: int, *, first: float, cap: float) -> float:
    base = min(first * 2 ** (attempt - 1), cap)
    return random.uniform(base / 2, base)
