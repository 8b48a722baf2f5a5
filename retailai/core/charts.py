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


@dataclass(frozen=True)
class Band:
    """A shaded interval between a lower and an upper series."""

    label: str
    points: Sequence[tuple[date, float, float]]
    color: str = PALETTE[0]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def time_chart(
    lines: Sequence[Line],
    bands: Sequence[Band] = (),
    *,
    markers: Sequence[tuple[date, str]] = (),
    width: int = 900,
    height: int = 300,
    y_label: str = "",
) -> SafeString:
    """Lines and bands over dates, with a y axis from zero, month ticks and optional vertical markers."""
    xs = [p[0] for line in lines for p in line.points] + [p[0] for band in bands for p in band.points]
    ys = [p[1] for line in lines for p in line.points] + [p[2] for band in bands for p in band.points]
    if not xs:
        return mark_safe('<p class="muted chart-empty">—</p>')
    left, right, top, bottom = 56, 16, 16, 44
    x0, x1 = min(xs).toordinal(), max(xs).toordinal()
    y_max = _nice_max(max(ys) if ys else 1.0)
    span = max(x1 - x0, 1)

    def sx(d: date) -> float:
        return left + (d.toordinal() - x0) / span * (width - left - right)

    def sy(v: float) -> float:
        return top + (1 - v / y_max) * (height - top - bottom)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(y_label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui, sans-serif">'
    ]
    for i in range(5):
        v = y_max * i / 4
        y = sy(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#6b7280">{v:g}</text>')
    first = min(xs)
    month = date(first.year, first.month, 1)
    while month <= max(xs):
        if month >= first:
            x = sx(month)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="#f1f5f9"/>')
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#6b7280">'
                f"{month.strftime('%b %Y')}</text>"
            )
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    for band in bands:
        if not band.points:
            continue
        upper = " ".join(f"{sx(d):.1f},{sy(hi):.1f}" for d, _, hi in band.points)
        lower = " ".join(f"{sx(d):.1f},{sy(lo):.1f}" for d, lo, _ in reversed(band.points))
        parts.append(f'<polygon points="{upper} {lower}" fill="{band.color}" fill-opacity="0.18" stroke="none"/>')
    for line in lines:
        if not line.points:
            continue
        pts = " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in line.points)
        dash = ' stroke-dasharray="5 4"' if line.dashed else ""
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{line.color}" stroke-width="1.8"{dash}/>')
    for d, label in markers:
        x = sx(d)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" '
            'stroke="#111827" stroke-dasharray="2 3"/>'
        )
        parts.append(f'<text x="{x + 4:.1f}" y="{top + 10}" fill="#111827">{escape(label)}</text>')
    legend_x = left
    for item in [*lines, *bands]:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="12" height="8" fill="{item.color}" '
            f'fill-opacity="{0.35 if isinstance(item, Band) else 1}"/>'
        )
        parts.append(f'<text x="{legend_x + 16}" y="{height - 6}" fill="#374151">{escape(item.label)}</text>')
        legend_x += 28 + 7 * len(item.label)
    parts.append("</svg>")
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
