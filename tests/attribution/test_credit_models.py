"""The attribution models on hand-computed journeys (pure functions, no database)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.credit_models import (
    MODELS,
    WEIGHT_SCALE,
    Touchpoint,
    in_window,
    largest_remainder,
    model_weights,
    touch_weights,
)

CONVERTED = datetime(2026, 11, 20, 12, tzinfo=UTC)


def journey(*steps):
    """(days before the conversion, channel) → touchpoints, oldest first."""
    return [Touchpoint(CONVERTED - timedelta(days=days), channel) for days, channel in steps]


def by_channel(model, touches, amount):
    """Channel → (weight, money) as the engine stores a credit: the model's weights, the amount split by them."""
    weights = model_weights(touches, converted_at=CONVERTED)[model]
    amounts = largest_remainder(amount, list(weights.values()))
    return {key[0]: (weight, part) for (key, weight), part in zip(weights.items(), amounts, strict=True)}


@pytest.mark.parametrize("model", MODELS)
def test_one_touch_gets_everything_in_every_model(model):
    assert by_channel(model, journey((3, "Newsletter")), 4900) == {"Newsletter": (WEIGHT_SCALE, 4900)}


def test_two_touches():
    touches = journey((10, "Facebook"), (2, "Newsletter"))
    assert by_channel("last_touch", touches, 4900) == {"Newsletter": (1_000_000, 4900)}
    assert by_channel("first_touch", touches, 4900) == {"Facebook": (1_000_000, 4900)}
    assert by_channel("linear", touches, 4900) == {"Facebook": (500_000, 2450), "Newsletter": (500_000, 2450)}
    assert by_channel("position_based", touches, 4900) == {"Facebook": (500_000, 2450), "Newsletter": (500_000, 2450)}
    # 2^(-10/7) : 2^(-2/7) = 0.3715 : 0.8203 → 0.311703 / 0.688297.
    assert by_channel("time_decay", touches, 4900) == {"Facebook": (311_703, 1527), "Newsletter": (688_297, 3373)}


FIVE = ((20, "Google"), (14, "Facebook"), (7, "Direct"), (3, "Newsletter"), (0, "Direct"))


def test_five_touches_last_touch_skips_direct():
    assert by_channel("last_touch", journey(*FIVE), 10000) == {"Newsletter": (1_000_000, 10000)}
    assert by_channel("first_touch", journey(*FIVE), 10000) == {"Google": (1_000_000, 10000)}


def test_five_touches_linear():
    assert by_channel("linear", journey(*FIVE), 10000) == {
        "Google": (200_000, 2000),
        "Facebook": (200_000, 2000),
        "Direct": (400_000, 4000),
        "Newsletter": (200_000, 2000),
    }


def test_five_touches_position_based_40_20_40():
    touches = journey(*FIVE)
    # 0.4, then 0.2 / 3 = 0.0666… for each middle touch (the extra millionths go to the earliest), 0.4.
    weights = touch_weights("position_based", touches, converted_at=CONVERTED)
    assert weights == [400_000, 66_667, 66_667, 66_666, 400_000]
    assert by_channel("position_based", touches, 10000) == {
        "Google": (400_000, 4000),
        "Facebook": (66_667, 667),
        "Direct": (466_667, 4667),
        "Newsletter": (66_666, 666),
    }


def test_five_touches_time_decay_halves_every_seven_days():
    weights = touch_weights("time_decay", journey(*FIVE), converted_at=CONVERTED)
    # 2^(-20/7), 2^(-14/7), 2^(-7/7), 2^(-3/7), 1 normalised by their sum 2.63093.
    assert weights == [52_456, 95_021, 190_041, 282_400, 380_082]
    assert weights[2] * 2 == weights[4]  # the touch a week before counts half as much as the one at checkout
    assert by_channel("time_decay", journey(*FIVE), 10000) == {
        "Google": (52_456, 525),
        "Facebook": (95_021, 950),
        "Direct": (570_123, 5701),
        "Newsletter": (282_400, 2824),
    }


@pytest.mark.parametrize("model", MODELS)
def test_direct_only_is_credited_to_direct(model):
    assert by_channel(model, journey((5, "Direct"), (1, "Direct")), 1000) == {"Direct": (1_000_000, 1000)}


def test_touches_outside_the_lookback_window_do_not_count():
    touches = journey((31, "Google"), (29, "Facebook"), (0, "Direct"))
    kept = in_window(touches, converted_at=CONVERTED, lookback_days=30)
    assert [t.channel for t in kept] == ["Facebook", "Direct"]
    assert by_channel("first_touch", kept, 100) == {"Facebook": (1_000_000, 100)}
    assert in_window(journey((8, "Google")), converted_at=CONVERTED, lookback_days=7) == []
    # touches after the conversion never count either
    later = [Touchpoint(CONVERTED + timedelta(minutes=1), "Google")]
    assert in_window(later, converted_at=CONVERTED, lookback_days=7) == []


@pytest.mark.parametrize("model", MODELS)
def test_no_touch_is_unattributed(model):
    assert by_channel(model, [], 2500) == {"Unattributed": (1_000_000, 2500)}


def test_largest_remainder_is_exact():
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]
    assert largest_remainder(0, [1, 2]) == [0, 0]
    assert largest_remainder(7, [0, 1]) == [0, 7]


@settings(deadline=None)  # time decay's floats are slow on a loaded machine; the property is not about time
@given(
    days=st.lists(st.floats(min_value=0, max_value=90, allow_nan=False), min_size=1, max_size=12),
    channels=st.lists(st.sampled_from(["Direct", "Google", "Facebook", "Newsletter"]), min_size=12, max_size=12),
    amount=st.integers(min_value=-(10**9), max_value=10**12),
)
def test_every_model_sums_to_one_and_to_the_revenue(days, channels, amount):
    touches = sorted(
        (Touchpoint(CONVERTED - timedelta(days=d), c) for d, c in zip(days, channels, strict=False)),
        key=lambda t: t.occurred_at,
    )
    for model in MODELS:
        assert sum(touch_weights(model, touches, converted_at=CONVERTED)) == WEIGHT_SCALE
        weights = model_weights(touches, converted_at=CONVERTED)[model]
        assert sum(weights.values()) == WEIGHT_SCALE
        assert sum(largest_remainder(amount, list(weights.values()))) == amount
