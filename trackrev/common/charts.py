"""Bar charts, server-rendered: geometry and labels are computed here and drawn by `templates/
_bar_chart.html` as SVG attributes (no JavaScript, no inline styles, so it works under the strict CSP).

Every bar carries its full reading as an SVG `<title>`, a tooltip without JavaScript, over the whole
height of its slot so that small bars can be read too. Labels are drawn only where they fit: a tick
under every k-th bar, and the values over the bars only when every one fits its bar (else the top of
the scale is labelled)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

WIDTH, HEIGHT, TOP, BOTTOM, GAP = 640, 220, 24, 34, 8
AXIS_Y = HEIGHT - BOTTOM + 2
TICK_Y = HEIGHT - 14
CHAR_WIDTH = 6.5  # a label character at the chart's 11 px, generously: labels never touch
LABEL_PADDING = 12


@dataclass(frozen=True)
class Slot:
    """One bar to draw: its value, the label over it, the tick under it and its tooltip."""

    value: int
    value_label: str
    tick: str
    tooltip: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    slot_x: float
    slot_width: float
    center: float
    value_y: float
    tooltip: str
    value_label: str  # "" for an empty bar, and for all when the values do not fit over the bars
    tick: str  # "" for the bars between labelled ones


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    scale_label: str  # the value at the top of the plot, when the bars carry none
    width: ClassVar[int] = WIDTH
    height: ClassVar[int] = HEIGHT
    top: ClassVar[int] = TOP
    scale_y: ClassVar[int] = TOP - 6
    axis_y: ClassVar[int] = AXIS_Y
    tick_y: ClassVar[int] = TICK_Y


def _label_width(text: str) -> float:
    return len(text) * CHAR_WIDTH + LABEL_PADDING


def bar_layout(slots: Sequence[Slot], *, scale_label: Callable[[int], str]) -> tuple[list[Bar], str]:
    """The bars scaled to the largest value (an empty one gets a hairline), and the scale's label."""
    if not slots:
        return [], ""
    slot = WIDTH / len(slots)
    gap = min(GAP, slot / 4)
    top = max(s.value for s in slots)
    plot = HEIGHT - TOP - BOTTOM
    show_values = max(_label_width(s.value_label) for s in slots) <= slot
    # Ticks as wide as the widest, centred under their bars, whole inside the chart, never touching.
    half = max(_label_width(s.tick) for s in slots) / 2
    every = math.ceil(2 * half / slot)
    first = math.ceil(max(0.0, half - slot / 2) / slot)
    bars = []
    for i, item in enumerate(slots):
        height = max(1.0, plot * item.value / top) if item.value > 0 else 1.0
        center = i * slot + slot / 2
        labelled = i >= first and (i - first) % every == 0 and center + half <= WIDTH
        bars.append(
            Bar(
                x=round(i * slot + gap / 2, 1),
                y=round(TOP + plot - height, 1),
                width=round(slot - gap, 1),
                height=round(height, 1),
                slot_x=round(i * slot, 1),
                slot_width=round(slot, 1),
                center=round(center, 1),
                value_y=round(TOP + plot - height - 6, 1),
                tooltip=item.tooltip,
                value_label=item.value_label if show_values and item.value else "",
                tick=item.tick if labelled else "",
            )
        )
    return bars, "" if show_values or not top else scale_label(top)
