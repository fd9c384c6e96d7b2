"""What the shared adapter contract (tests/integrations/test_adapter_contract.py) needs from each
processor: a module `tests/integrations/kits/<key>.py` defining `KIT`, found by the processor's key.
Each kit brings its processor's own signing scheme, headers and tolerance, payloads and a local fake of
its list API, so the contract holds every adapter to its own processor's rules."""

import contextlib
import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kit:
    secret: str
    # A delivery that carries one order, as the processor sends it, and the order it maps to.
    order_event: dict
    expected_order_external_id: str
    expected_amount_minor: int
    # (body, secret, *, at) → the headers the processor sends with `body`, by lower-case name.
    sign: Callable[..., dict[str, str]]
    # Headers without any one of which a delivery is rejected.
    signature_headers: tuple[str, ...]
    # How far from now a signature's timestamp may be, either way; None when the scheme signs no time
    # (replays are then the inbox's to absorb, by delivery id).
    tolerance: dt.timedelta | None
    # An event type of the processor that the adapter does not use.
    unused_event_type: str
    # (token, orders, since, *, throttle=False) → a context manager of a local fake of the list API
    # serving `orders` orders created after `since` (the second page answered once with 429 when
    # `throttle`): yields (base URL, the served order objects).
    fake_api: Callable[..., contextlib.AbstractContextManager]
    # A served order object → its order's external id; → its net revenue as the processor's API states
    # it (currency, minor units); and → a delivery of the order event.
    order_id: Callable[[dict], str]
    native_amount: Callable[[dict], tuple[str, int]]
    as_event: Callable[[dict], dict]
    # (token, started) → a context manager of a fake serving one open subscription started then, due to
    # end at its period's end: yields (base URL, the subscription object); and → a delivery of it.
    subscription_api: Callable[..., contextlib.AbstractContextManager]
    as_subscription_event: Callable[[dict], dict]
    encode: Callable[[dict], bytes]
    # The status the processor refuses a wrong token with (its error code may say the rest).
    bad_token_status: int = 401
    # (token, since) → a context manager of a fake serving one order created after `since` that used a
    # discount with a code: yields (base URL, the order as a delivery carries it); and the order's
    # discount codes as the poll reads them. None where the processor's order payloads name no code.
    discount_api: Callable[..., contextlib.AbstractContextManager] | None = None
    discount_codes: tuple[str, ...] = ()


def kit(key: str) -> Kit:
    return importlib.import_module(f"{__name__}.{key}").KIT
