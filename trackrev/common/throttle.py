"""Failed logins, counted in the shared cache, for every login form (members' `/login/` and `/admin/login/`,
partners' `/partners/`). MAX_FAILURES for one email from one client address refuse that pair, and
MAX_FAILURES_PER_ADDRESS from one address, whatever the emails, refuse the address (one password sprayed
over many accounts), until FAILURE_WINDOW after the first failure (after the last, on the file cache).
A success clears only its pair: logging into one's own account must not reset a spray. There is no limit
per email across addresses: anyone could then lock a person out of their account.

Counters are keyed by digests, so the cache holds no email."""

import hashlib

from django.core.cache import cache

from trackrev.common.counters import counters_incr
from trackrev.common.emails import email_normalize

MAX_FAILURES = 10
MAX_FAILURES_PER_ADDRESS = 100
FAILURE_WINDOW = 15 * 60  # seconds
THROTTLED = "Too many attempts, try again later."


def _keys(scope: str, email: str, ip: str) -> tuple[str, str]:
    pair = hashlib.sha256(f"{email_normalize(email)}|{ip}".encode()).hexdigest()
    return f"{scope}:{pair}", f"{scope}:ip:{hashlib.sha256(ip.encode()).hexdigest()}"


def login_throttled(*, scope: str, email: str, ip: str) -> bool:
    pair, address = _keys(scope, email, ip)
    counts = cache.get_many([pair, address])
    return counts.get(pair, 0) >= MAX_FAILURES or counts.get(address, 0) >= MAX_FAILURES_PER_ADDRESS


def login_failed(*, scope: str, email: str, ip: str) -> None:
    counters_incr([(key, FAILURE_WINDOW) for key in _keys(scope, email, ip)])


def login_succeeded(*, scope: str, email: str, ip: str) -> None:
    cache.delete(_keys(scope, email, ip)[0])
