"""The attribution models as pure functions: touches in, weights out (and money split by weight).

Weights are integers in millionths (`WEIGHT_SCALE`) that sum to exactly one per conversion, so
stored credits and rollups add up without rounding drift; money is split in integer minor units by
the largest-remainder method, so the channels of an order always add up to the order's revenue.
No Django here: the engine, the order page and the tests share these functions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

WEIGHT_SCALE = 1_000_000
DIRECT = "Direct"
UNATTRIBUTED = "Unattributed"
TIME_DECAY_HALF_LIFE = timedelta(days=7)

LAST_TOUCH = "last_touch"
FIRST_TOUCH = "first_touch"
LINEAR = "linear"
POSITION_BASED = "position_based"
TIME_DECAY = "time_decay"
MODELS = (LAST_TOUCH, FIRST_TOUCH, LINEAR, POSITION_BASED, TIME_DECAY)


def weight_text(millionths: int) -> str:
    """A weight as the API and outbound webhooks write it: a decimal string with six places ("0.500000")."""
    return f"{millionths // WEIGHT_SCALE}.{millionths % WEIGHT_SCALE:06d}"


ChannelKey = tuple[str, str, str]  # (channel, channel group, campaign)
ModelWeights = dict[str, dict[ChannelKey, int]]  # model → channel key → millionths


@dataclass(frozen=True)
class Touchpoint:
    occurred_at: datetime
    channel: str
    channel_group: str = ""
    campaign: str = ""
    ref: int | None = None  # the Touch row's id, for explanations


def largest_remainder(total: int, parts: Sequence[Fraction | int | float]) -> list[int]:
    """Split the integer `total` proportionally to `parts` into integers that sum to `total` exactly.

    Each part gets the floor of its exact share; the units left go to the largest remainders (ties:
    earlier parts first). A negative total is split like its absolute value, with the sign kept.
    """
    if not parts:
        return []
    sign, total = (-1, -total) if total < 0 else (1, total)
    exact = [Fraction(p) for p in parts]
    denominator = sum(exact)
    if denominator <= 0:
        raise ValueError("parts must have a positive sum")
    shares = [total * p / denominator for p in exact]
    floors = [int(s) for s in shares]  # Fraction → int truncates; shares are ≥ 0
    left = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f for f in floors]


def in_window(touches: Sequence[Touchpoint], *, converted_at: datetime, lookback_days: int) -> list[Touchpoint]:
    """The touches inside [conversion - lookback, conversion], oldest first."""
    start = converted_at - timedelta(days=lookback_days)
    kept = [t for t in touches if start <= t.occurred_at <= converted_at]
    return sorted(kept, key=lambda t: (t.occurred_at, t.ref or 0))


def touch_weights(model: str, touches: Sequence[Touchpoint], *, converted_at: datetime) -> list[int]:
    """Millionths per touch (touches oldest first, non-empty), summing to WEIGHT_SCALE."""
    n = len(touches)
    if n == 0:
        raise ValueError("no touches to weigh")
    if model == LAST_TOUCH:
        # The last touch that is not Direct; Direct only when nothing else brought the visitor.
        non_direct = [i for i, t in enumerate(touches) if t.channel != DIRECT]
        chosen = non_direct[-1] if non_direct else n - 1
        return [WEIGHT_SCALE if i == chosen else 0 for i in range(n)]
    if model == FIRST_TOUCH:
        return [WEIGHT_SCALE if i == 0 else 0 for i in range(n)]
    if model == LINEAR:
        return largest_remainder(WEIGHT_SCALE, [1] * n)
    if model == POSITION_BASED:
        if n <= 2:
            return largest_remainder(WEIGHT_SCALE, [1] * n)
        middle = Fraction(1, 5) / (n - 2)
        return largest_remainder(WEIGHT_SCALE, [Fraction(2, 5), *[middle] * (n - 2), Fraction(2, 5)])
    if model == TIME_DECAY:
        half_life = TIME_DECAY_HALF_LIFE.total_seconds()
        raw = [2.0 ** (-(converted_at - t.occurred_at).total_seconds() / half_life) for t in touches]
        return largest_remainder(WEIGHT_SCALE, raw)
    raise ValueError(f"unknown attribution model {model!r}")


def model_weights(touches: Sequence[Touchpoint], *, converted_at: datetime) -> ModelWeights:
    """The conversion's weight per (channel, group, campaign) under every model; all of it to
    `Unattributed` without touches. Touches are those already inside the lookback window (see
    `in_window`), oldest first."""
    if not touches:
        return {model: {(UNATTRIBUTED, UNATTRIBUTED, ""): WEIGHT_SCALE} for model in MODELS}
    result: ModelWeights = {}
    for model in MODELS:
        weights: dict[ChannelKey, int] = {}
        for touch, weight in zip(touches, touch_weights(model, touches, converted_at=converted_at), strict=True):
            if weight:
                key = (touch.channel, touch.channel_group, touch.campaign)
                weights[key] = weights.get(key, 0) + weight
        result[model] = weights
    return result
