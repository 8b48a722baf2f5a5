"""Small server-rendered SVG charts: no JavaScript, no external assets, readable in any browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#64748b"]


@dataclass(frozen=True)
class Line:
    """A named series of (x, y) points drawn as a line."""

    label: str
    points: Sequence[tuple[date, float]]
    color: str = PALETTE[0]
    dashed: bool = False
    key: str = ""  # a CSS class naming the series, for styling and tests


@dataclass(frozen=True)
class Band:
    """A shaded interval between a lower and an upper series."""

    label: str
    points: Sequence[tuple[date, float, float]]
    color: str = PALETTE[0]
    key: str = ""
    opacity: float = 0.18


@dataclass(frozen=True)
class Span:
    """Shaded stretches of time behind the data, e.g. promotions: (first day, day after the last) pairs."""

    label: str
    ranges: Sequence[tuple[date, date]]
    color: str = "#eab308"
    key: str = ""
    opacity: float = 0.16
    # Points mark the start of their period; shifting spans back half a period centres them on those points.
    offset_days: float = 0.0


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _text_width(text: str, size: float = 11) -> float:
    """Rough rendered width of a label (system sans-serif averages a little over half the font size)."""
    return len(text) * size * 0.56


def _legend(items: Sequence[Line | Band | Span], left: float, width: float) -> tuple[list[tuple], int]:
    """Place legend entries left to right, wrapping onto new rows; returns (entry, x, row) and the row count."""
    placed, x, row = [], left, 0
    for item in items:
        w = 22 + _text_width(item.label) + 18
        if x + w > width and x > left:
            x, row = left, row + 1
        placed.append((item, x, row))
        x += w
    return placed, row + 1 if items else 0


def _month_ticks(first: date, last: date, max_ticks: int) -> list[date]:
    """First days of the months between two dates, thinned to at most `max_ticks`."""
    months, month = [], date(first.year, first.month, 1)
    while month <= last:
        if month >= first:
            months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    every = max(1, -(-len(months) // max(max_ticks, 1)))
    return months[::every]


def time_chart(
    lines: Sequence[Line],
    bands: Sequence[Band] = (),
    *,
    spans: Sequence[Span] = (),
    markers: Sequence[tuple[date, str]] = (),
    width: int = 900,
    height: int = 300,
    y_label: str = "",
) -> SafeString:
    """Lines and bands over dates, with a y axis from zero, month ticks, shaded spans, markers and a legend.

    The legend sits below the axis and wraps onto as many rows as it needs; `height` is the plot's height
    without it. Marker labels are stacked so that two close markers do not write over each other.
    """
    xs = [p[0] for line in lines for p in line.points] + [p[0] for band in bands for p in band.points]
    ys = [p[1] for line in lines for p in line.points] + [p[2] for band in bands for p in band.points]
    if not xs:
        return mark_safe('<p class="muted chart-empty">—</p>')
    items = [i for i in (*lines, *bands) if i.points] + [s for s in spans if s.ranges]
    left, right, top, axis = 56, 16, 14 + 14 * len(markers), 30
    legend, rows = _legend(items, left, width - right)
    total = height + rows * 18 + 6
    bottom = height - axis
    x0, x1 = min(xs).toordinal(), max(xs).toordinal()
    y_max = _nice_max(max(ys) if ys else 1.0)
    span = max(x1 - x0, 1)

    def sx_day(day: float) -> float:
        return left + (min(max(day, x0), x1) - x0) / span * (width - left - right)

    def sx(d: date) -> float:
        return sx_day(d.toordinal())

    def sy(v: float) -> float:
        return top + (1 - v / y_max) * (bottom - top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {total}" role="img" aria-label="{escape(y_label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui, sans-serif">'
    ]
    if y_label:
        parts.append(f"<title>{escape(y_label)}</title>")
    for item in spans:
        for a, b in item.ranges:
            da, db = a.toordinal() + item.offset_days, b.toordinal() + item.offset_days
            if db <= x0 or da > x1:
                continue
            xa, xb = sx_day(da), sx_day(db)
            parts.append(
                f'<rect class="chart-span {escape(item.key)}" x="{xa:.1f}" y="{top}" width="{max(xb - xa, 1.5):.1f}" '
                f'height="{bottom - top}" fill="{item.color}" fill-opacity="{item.opacity}"/>'
            )
    for i in range(5):
        v = y_max * i / 4
        y = sy(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#6b7280">{v:g}</text>')
    for month in _month_ticks(min(xs), max(xs), max_ticks=int((width - left - right) // 70)):
        x = sx(month)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#f1f5f9"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#6b7280">{month.strftime("%b %Y")}</text>'
        )
    for band in bands:
        if not band.points:
            continue
        upper = " ".join(f"{sx(d):.1f},{sy(hi):.1f}" for d, _, hi in band.points)
        lower = " ".join(f"{sx(d):.1f},{sy(lo):.1f}" for d, lo, _ in reversed(band.points))
        parts.append(
            f'<polygon class="chart-band {escape(band.key)}" points="{upper} {lower}" fill="{band.color}" '
            f'fill-opacity="{band.opacity}" stroke="none"/>'
        )
    for line in lines:
        if not line.points:
            continue
        pts = " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in line.points)
        dash = ' stroke-dasharray="5 4"' if line.dashed else ""
        parts.append(
            f'<polyline class="chart-line {escape(line.key)}" points="{pts}" fill="none" stroke="{line.color}" '
            f'stroke-width="1.8" stroke-linejoin="round"{dash}/>'
        )
    for i, (d, label) in enumerate(markers):
        x = sx(d)
        y_text = 11 + 14 * i
        parts.append(
            f'<line class="chart-marker" x1="{x:.1f}" x2="{x:.1f}" y1="{y_text + 3}" y2="{bottom}" '
            'stroke="#111827" stroke-dasharray="2 3"/>'
        )
        # Near the right edge the label goes to the left of its line so that it is never cut off.
        flip = x + 4 + _text_width(label) > width - right
        anchor, tx = ("end", x - 4) if flip else ("start", x + 4)
        parts.append(f'<text x="{tx:.1f}" y="{y_text}" text-anchor="{anchor}" fill="#111827">{escape(label)}</text>')
    parts.append(f'<g class="chart-legend" transform="translate(0 {height + 4})">')
    for item, x, row in legend:
        y = row * 18
        if isinstance(item, Line):
            dash = ' stroke-dasharray="4 3"' if item.dashed else ""
            parts.append(
                f'<line x1="{x:.1f}" x2="{x + 16:.1f}" y1="{y + 6}" y2="{y + 6}" stroke="{item.color}" '
                f'stroke-width="2.4"{dash}/>'
            )
        else:
            opacity = min(1.0, item.opacity * 2.2)
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 1}" width="16" height="10" fill="{item.color}" fill-opacity="{opacity}"/>'
            )
        parts.append(f'<text x="{x + 22:.1f}" y="{y + 10}" fill="#374151">{escape(item.label)}</text>')
    parts.append("</g></svg>")
    return mark_safe("".join(parts))


def bar_chart(
    bars: Sequence[tuple[str, float]], *, width: int = 520, value_format: str = "{:.2f}", color: str = PALETTE[0]
) -> SafeString:
    """Horizontal bars with their labels and values, longest scale first as given."""
    if not bars:
        return mark_safe('<p class="muted chart-empty">—</p>')
    row, label_w = 24, 190
    height = row * len(bars) + 8
    top = max(v for _, v in bars) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="12" font-family="system-ui, sans-serif">'
    ]
    for i, (label, value) in enumerate(bars):
        y = 4 + i * row
        w = max(0.0, value) / top * (width - label_w - 70)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="#374151">{escape(label[:28])}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" rx="2" fill="{color}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="#111827">{value_format.format(value)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
