"""A server-rendered bar chart: geometry computed here, drawn by the template as SVG attributes
(no JavaScript, no inline styles, so it works under the strict CSP)."""

from dataclasses import dataclass

WIDTH, HEIGHT, TOP, BOTTOM, GAP = 640, 220, 24, 34, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float
    day_label: str
    value_label: str


def bar_chart(points: list[tuple[str, int, str]]) -> list[Bar]:
    """(day label, value, value label) → bars scaled to the largest value; zero days get a hairline."""
    if not points:
        return []
    slot = WIDTH / len(points)
    top = max(value for _, value, _ in points) or 1
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (day_label, value, value_label) in enumerate(points):
        height = max(1.0, plot * value / top) if value > 0 else 1.0
        x = i * slot + GAP / 2
        bars.append(
            Bar(
                round(x, 1),
                round(TOP + plot - height, 1),
                round(slot - GAP, 1),
                round(height, 1),
                round(x + (slot - GAP) / 2, 1),
                round(TOP + plot - height - 6, 1),
                day_label,
                value_label,
            )
        )
    return bars
