"""Small server-side SVG plots for the coordinator's dashboard: lines over days, bars per day or
per category. No JavaScript and nothing fetched: each plot is an inline ``<svg>`` that scales
to its container (viewBox) and carries a title for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from unicodedata import east_asian_width

from markupsafe import Markup

WIDTH = 480
HEIGHT = 220
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 26
MARGIN_BOTTOM = 30
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")


@dataclass(frozen=True)
class Series:
    """One line: its name (legend), a value per x position (None leaves a gap), and style."""

    name: str
    values: Sequence[float | None]
    color: str = PALETTE[0]
    dashed: bool = False


def _number(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_top(value: float) -> float:
    """The axis top for ``value``: the next 1, 2 or 5 times a power of ten at or above it."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _frame(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    content = "".join(body)
    return Markup(
        f'<svg class="plot" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'style="width:100%;height:auto" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{content}</svg>"
    )


def _axes(top: float, x_labels: Sequence[str], y_max: float) -> list[str]:
    """Gridlines with y values at 0, half and top, and every few x labels."""
    bottom = HEIGHT - MARGIN_BOTTOM
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * (bottom - top)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="#e5e7eb"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="#6b7280">{escape(_number(fraction * y_max))}</text>'
        )
    # About five labels, counted back from the last (today, or the projected end).
    step = max(1, -(-len(x_labels) // 5))
    for index, label in enumerate(x_labels):
        if (len(x_labels) - 1 - index) % step:
            continue
        parts.append(
            f'<text x="{_x(index, len(x_labels)):.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'font-size="13" fill="#6b7280">{escape(label)}</text>'
        )
    return parts


def _x(index: int, count: int) -> float:
    span = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    return MARGIN_LEFT + (span * (index + 0.5) / count if count else 0)


def _y(value: float, y_max: float) -> float:
    bottom = HEIGHT - MARGIN_BOTTOM
    return bottom - (value / y_max if y_max else 0) * (bottom - MARGIN_TOP)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    level: tuple[str, float] | None = None,
) -> Markup:
    """Lines over ``x_labels``; ``level`` (name, value) draws a labelled horizontal line, such
    as a budget."""
    values = [v for line in series for v in line.values if v is not None]
    y_max = nice_top(max([*values, level[1] if level else 0.0, 0.0]))
    body = _axes(MARGIN_TOP, x_labels, y_max)
    if level is not None:
        y = _y(level[1], y_max)
        body.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="#111827" stroke-width="1.5" stroke-dasharray="2 3"/>'
            f'<text x="{WIDTH - MARGIN_RIGHT}" y="{y - 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="#111827">{escape(level[0])}</text>'
        )
    for line in series:
        points = [
            f"{_x(i, len(x_labels)):.1f},{_y(v, y_max):.1f}"
            for i, v in enumerate(line.values)
            if v is not None
        ]
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        body.append(
            f'<polyline fill="none" stroke="{line.color}" stroke-width="2"{dash} '
            f'points="{" ".join(points)}"><title>{escape(line.name)}</title></polyline>'
        )
    body.append(_legend(series))
    return _frame(title, body)


def text_width(text: str, font_size: float = 13) -> float:
    """About how wide ``text`` is drawn: a CJK character is a full em, a Latin one about 0.6."""
    wide = sum(1 for char in text if east_asian_width(char) in ("W", "F"))
    return font_size * (wide + 0.6 * (len(text) - wide))


def _legend(series: Sequence[Series]) -> str:
    parts = []
    x = MARGIN_LEFT + 4
    for line in series:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(
            f'<line x1="{x}" y1="10" x2="{x + 16}" y2="10" '
            f'stroke="{line.color}" stroke-width="2"{dash}/>'
            f'<text x="{x + 20}" y="14" font-size="13" fill="#374151">'
            f"{escape(line.name)}</text>"
        )
        x += 32 + text_width(line.name)
    return "".join(parts)


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], color: str = PALETTE[0]
) -> Markup:
    """One bar per label (days, say), each with its value on hover."""
    y_max = nice_top(max([*values, 0.0]))
    body = _axes(MARGIN_TOP, labels, y_max)
    width = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(labels), 1) * 0.7
    for index, value in enumerate(values):
        y = _y(value, y_max)
        body.append(
            f'<rect x="{_x(index, len(labels)) - width / 2:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{HEIGHT - MARGIN_BOTTOM - y:.1f}" fill="{color}">'
            f"<title>{escape(labels[index])}: {escape(_number(value))}</title></rect>"
        )
    return _frame(title, body)


def share_bar(
    title: str, parts: Sequence[tuple[str, float]], colors: dict[str, str] | None = None
) -> Markup:
    """One horizontal bar split into labelled shares (clips by state, say), with a legend;
    ``colors`` by label, else the palette in turn."""
    total = sum(value for _label, value in parts) or 1.0
    span = WIDTH - 2 * MARGIN_RIGHT
    body, x = [], float(MARGIN_RIGHT)
    for index, (label, value) in enumerate(parts):
        width = span * value / total
        color = (colors or {}).get(label, PALETTE[index % len(PALETTE)])
        body.append(
            f'<rect x="{x:.1f}" y="8" width="{width:.1f}" height="28" fill="{color}">'
            f"<title>{escape(label)}: {escape(_number(value))}</title></rect>"
        )
        legend_x = MARGIN_RIGHT + (index % 2) * (span / 2)
        legend_y = 60 + (index // 2) * 22
        body.append(
            f'<rect x="{legend_x:.1f}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{color}"/><text x="{legend_x + 14:.1f}" y="{legend_y}" font-size="14" '
            f'fill="#374151">{escape(label)} {escape(_number(value))}</text>'
        )
        x += width
    return _frame(title, body, height=50 + 22 * ((len(parts) + 1) // 2))
