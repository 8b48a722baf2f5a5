"""Small server-rendered SVG charts: no JavaScript, no external assets, readable in any browser.

The charts are drawn in CSS pixels, not in a scaled viewBox: an SVG with a viewBox scales its text with the
width of its card (7 px in a narrow card, 17 px in a wide one). Here the SVG has a fixed pixel height and
takes the width of its container; the plot area is placed with pixel margins, horizontal positions are
percentages of it, and only the data layer (lines and bands) sits in a nested SVG stretched horizontally
with non-scaling strokes. Text is therefore always drawn at ``FONT_SIZE`` pixels, and the legend is HTML
below the plot, which wraps onto as many rows as the width needs.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from itertools import pairwise

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#64748b"]

#: Pixel size of every label of a chart, whatever its width.
FONT_SIZE = 12
#: Width of the data layer's coordinate system; it is stretched to the plot's rendered width.
_X_UNITS = 1000


@dataclass(frozen=True)
class Line:
    """A named series of (x, y) points drawn as a line."""

    label: str
    points: Sequence[tuple[date, float]]
    color: str = PALETTE[0]
    dashed: bool = False
    key: str = ""  # a CSS class naming the series, for styling and tests
    # A level that holds until the next point and then jumps (stock on hand), rather than one that moves
    # steadily between its points (demand per period): drawn as steps, so a delivery is a rise, not a ramp.
    step: bool = False


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


def axis_ticks(value: float, intervals: int = 4) -> list[float]:
    """Round axis ticks from zero to the first tick at or above `value`: 0, s, 2s, ... with s 1, 2 or 5 times a
    power of ten (25, 250... too from 10 up), the step giving the number of intervals nearest `intervals`.

    A scale cut into equal quarters of a round maximum reads 0, 6.25, 12.5, 18.75, 25; this one reads 0, 5,
    10, 15, 20, 25.
    """
    if not math.isfinite(value) or value <= 0:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    mag = 10.0 ** math.floor(math.log10(value / intervals))
    steps = [m * mag * k for k in (0.1, 1, 10) for m in (1, 2, 2.5, 5) if m != 2.5 or mag * k >= 10]
    counts = {step: max(1, math.ceil(value / step - 1e-9)) for step in steps}
    step = min((s for s in steps if counts[s] >= 2), key=lambda s: (abs(counts[s] - intervals), s))
    return [round(step * i, 10) for i in range(counts[step] + 1)]


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width of a label: system sans-serif averages a little over half the font size per
    character, East Asian wide and full-width characters (Chinese, Japanese, Korean) a whole em."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.56 for ch in text)
    return ems * size


def _month_ticks(first: date, last: date, max_ticks: int) -> list[date]:
    """First days of the months between two dates, thinned to at most `max_ticks`."""
    months, month = [], date(first.year, first.month, 1)
    while month <= last:
        if month >= first:
            months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    every = max(1, -(-len(months) // max(max_ticks, 1)))
    return months[::every]


#: Ranges shorter than this get day ticks ("12 Jan") instead of month ticks ("Jan 2012").
DAY_TICKS_BELOW = timedelta(weeks=10)


def _day_ticks(first: date, last: date, max_ticks: int) -> list[date]:
    """Days between two dates for a short range: every Monday (every day under two weeks), thinned to at most
    `max_ticks`."""
    if last - first < timedelta(days=14):
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    else:
        monday = first + timedelta(days=-first.weekday() % 7)
        days = [monday + timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]
    every = max(1, -(-len(days) // max(max_ticks, 1)))
    return days[::every]


#: Short axis-label formats (day, month; Django date format syntax) by language; others use the English ones.
_TICK_FORMATS = {"zh": ("n月j日", "Y年n月")}


def _ticks(first: date, last: date, max_ticks: int) -> list[tuple[date, str]]:
    """The x-axis ticks of a date range and their labels in the active language: days under ten weeks, else
    months."""
    day_format, month_format = _TICK_FORMATS.get((get_language() or "en").split("-")[0], ("j M", "M Y"))
    if last - first < DAY_TICKS_BELOW:
        return [(d, date_format(d, day_format)) for d in _day_ticks(first, last, max_ticks)]
    return [(d, date_format(d, month_format)) for d in _month_ticks(first, last, max_ticks)]


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


@dataclass(frozen=True)
class Bars:
    """One named series of a grouped bar chart: a value per category, in the categories' order."""

    label: str
    values: Sequence[float]
    color: str = PALETTE[0]
    key: str = ""
    opacity: float = 1.0


def _swatch(item: Line | Band | Span | Bars) -> str:
    """The small key of a legend entry: a line, dashed or not, or a shaded box."""
    if isinstance(item, Line):
        dash = ' stroke-dasharray="4 3"' if item.dashed else ""
        mark = f'<line x1="0" x2="16" y1="5" y2="5" stroke="{item.color}" stroke-width="2.4"{dash}/>'
    else:
        opacity = min(1.0, item.opacity * 2.2)
        mark = f'<rect x="0" y="0" width="16" height="10" fill="{item.color}" fill-opacity="{opacity}"/>'
    return f'<svg width="16" height="10" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">{mark}</svg>'


def _legend(items: Sequence[Line | Band | Span | Bars], left: float) -> str:
    """The legend as an HTML list under the plot, lined up with it; the browser wraps it onto rows."""
    entries = "".join(
        f'<li class="{escape(item.key)}" style="display:inline-flex;align-items:center;gap:6px;margin-right:18px">'
        f"{_swatch(item)}<span>{escape(item.label)}</span></li>"
        for item in items
    )
    return (
        f'<ul class="chart-legend" style="list-style:none;margin:4px 0 0;padding:0 0 0 {left:.0f}px;'
        f'font-size:{FONT_SIZE}px;line-height:18px;color:#374151">{entries}</ul>'
    )


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
    """Lines and bands over dates, with a labelled y axis from zero, date ticks, shaded spans, markers and a legend.

    The chart takes the width of its container and is `height` pixels high without its legend, which wraps
    below it. `width` is the width the chart is laid out for: it sets how many date ticks fit and on which side
    of its line a marker's label goes; the chart still fits any width. Marker labels are stacked so that two
    close markers do not write over each other.
    """
    xs = [p[0] for line in lines for p in line.points] + [p[0] for band in bands for p in band.points]
    ys = [p[1] for line in lines for p in line.points] + [p[2] for band in bands for p in band.points]
    if not xs:
        return mark_safe('<p class="muted chart-empty">—</p>')
    items = [i for i in (*lines, *bands) if i.points] + [s for s in spans if s.ranges]
    y_ticks = axis_ticks(max(ys) if ys else 1.0)
    y_max = y_ticks[-1]
    tick_w = max(_text_width(f"{v:g}") for v in y_ticks)
    # Pixel margins around the plot: the y-axis label (turned upright) and the tick values on the left.
    label_w = FONT_SIZE + 8 if y_label else 0
    left, right, top, axis = label_w + tick_w + 10, 16, 14 + 16 * len(markers), 30
    bottom = height - axis
    x0, x1 = min(xs).toordinal(), max(xs).toordinal()
    span = max(x1 - x0, 1)
    plot_w = max(width - left - right, 200)  # the plot width ticks and marker labels are laid out for

    def fx_day(day: float) -> float:
        return (min(max(day, x0), x1) - x0) / span

    def fx(d: date) -> float:
        return fx_day(d.toordinal())

    def sy(v: float) -> float:
        return top + (1 - v / y_max) * (bottom - top)

    parts = [
        f'<div class="chart-figure">'
        f'<svg class="chart time-chart" role="img" aria-label="{escape(y_label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT_SIZE}" font-family="system-ui, sans-serif" '
        f'style="display:block;width:calc(100% - {left + right:.0f}px);max-width:none;height:{height}px;'
        f'margin-left:{left:.0f}px;overflow:visible">'
    ]
    if y_label:
        parts.append(f"<title>{escape(y_label)}</title>")
        mid = (top + bottom) / 2
        parts.append(
            f'<text class="chart-y-label" x="{-left + FONT_SIZE:.1f}" y="{mid:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 {-left + FONT_SIZE:.1f} {mid:.1f})" fill="#374151">{escape(y_label)}</text>'
        )
    for item in spans:
        for a, b in item.ranges:
            da, db = a.toordinal() + item.offset_days, b.toordinal() + item.offset_days
            if db <= x0 or da > x1:
                continue
            xa, xb = fx_day(da), fx_day(db)
            parts.append(
                f'<rect class="chart-span {escape(item.key)}" x="{_pct(xa)}" y="{top}" '
                f'width="{_pct(max(xb - xa, 1.5 / plot_w))}" height="{bottom - top}" fill="{item.color}" '
                f'fill-opacity="{item.opacity}"/>'
            )
    for v in y_ticks:
        y = sy(v)
        parts.append(f'<line x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end" fill="#6b7280">{v:g}</text>')
    tick_room = _text_width("00 Mmm 0000") + 16
    for day, label in _ticks(min(xs), max(xs), max_ticks=max(2, int(min(plot_w, 560) // tick_room))):
        x = _pct(fx(day))
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" stroke="#f1f5f9"/>')
        parts.append(
            f'<text class="chart-tick" x="{x}" y="{bottom + 17}" text-anchor="middle" fill="#6b7280">'
            f"{escape(label)}</text>"
        )
    # The data layer: x in `_X_UNITS` stretched to the plot's width, y in pixels; strokes keep their width.
    parts.append(
        f'<svg x="0" y="0" width="100%" height="{height}" viewBox="0 0 {_X_UNITS} {height}" '
        'preserveAspectRatio="none" overflow="visible">'
    )
    for band in bands:
        if not band.points:
            continue
        upper = " ".join(f"{fx(d) * _X_UNITS:.1f},{sy(hi):.1f}" for d, _, hi in band.points)
        lower = " ".join(f"{fx(d) * _X_UNITS:.1f},{sy(lo):.1f}" for d, lo, _ in reversed(band.points))
        parts.append(
            f'<polygon class="chart-band {escape(band.key)}" points="{upper} {lower}" fill="{band.color}" '
            f'fill-opacity="{band.opacity}" stroke="none"/>'
        )
    for line in lines:
        if not line.points:
            continue
        xy = [(fx(d) * _X_UNITS, sy(v)) for d, v in line.points]
        if line.step:
            # Each value runs to the next point's date, where the line rises or falls straight to the next value.
            xy = [corner for (xa, ya), (xb, _) in pairwise(xy) for corner in ((xa, ya), (xb, ya))] + xy[-1:]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        dash = ' stroke-dasharray="5 4"' if line.dashed else ""
        parts.append(
            f'<polyline class="chart-line {escape(line.key)}" points="{pts}" fill="none" stroke="{line.color}" '
            f'stroke-width="1.8" stroke-linejoin="round" vector-effect="non-scaling-stroke"{dash}/>'
        )
    parts.append("</svg>")
    for i, (d, label) in enumerate(markers):
        x = fx(d)
        y_text = 12 + 16 * i
        parts.append(
            f'<line class="chart-marker" x1="{_pct(x)}" x2="{_pct(x)}" y1="{y_text + 3}" y2="{bottom}" '
            'stroke="#111827" stroke-dasharray="2 3"/>'
        )
        # Near the right edge the label goes to the left of its line so that it is never cut off.
        flip = (1 - x) * plot_w < 4 + _text_width(label)
        anchor, dx = ("end", -4) if flip else ("start", 4)
        parts.append(
            f'<text x="{_pct(x)}" dx="{dx}" y="{y_text}" text-anchor="{anchor}" fill="#111827">{escape(label)}</text>'
        )
    parts.append("</svg>")
    parts.append(_legend(items, left))
    parts.append("</div>")
    return mark_safe("".join(parts))


def _shorten(text: str, room: float) -> str:
    """The text, cut with an ellipsis to fit `room` pixels."""
    if _text_width(text) <= room:
        return text
    while text and _text_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def bar_chart(
    bars: Sequence[tuple[str, float]], *, width: int = 520, value_format: str = "{:.2f}", color: str = PALETTE[0]
) -> SafeString:
    """Horizontal bars with their labels and values, longest scale first as given.

    Like :func:`time_chart`, drawn in pixels at any width: labels on the left, bars scaled to the room left.
    `width` is kept for callers; the chart takes the width of its container.
    """
    if not bars:
        return mark_safe('<p class="muted chart-empty">—</p>')
    row = 24
    labels = [_shorten(label, 200) for label, _ in bars]
    label_w = max(_text_width(label) for label in labels) + 12
    values = [value_format.format(value) for _, value in bars]
    value_w = max(_text_width(v) for v in values) + 10
    height = row * len(bars) + 8
    top = max(v for _, v in bars) or 1.0
    parts = [
        f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" font-size="{FONT_SIZE}" '
        f'font-family="system-ui, sans-serif" style="display:block;width:calc(100% - {label_w + value_w:.0f}px);'
        f'height:{height}px;margin-left:{label_w:.0f}px;overflow:visible">'
    ]
    for i, ((label, value), short, shown) in enumerate(zip(bars, labels, values, strict=True)):
        y = 4 + i * row
        w = max(0.0, value) / top
        title = f"<title>{escape(label)}</title>" if short != label else ""
        parts.append(f'<text x="-8" y="{y + 16}" text-anchor="end" fill="#374151">{title}{escape(short)}</text>')
        parts.append(f'<rect x="0" y="{y + 3}" width="{_pct(w)}" height="16" rx="2" fill="{color}"/>')
        parts.append(f'<text x="{_pct(w)}" dx="6" y="{y + 16}" fill="#111827">{escape(shown)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def grouped_bar_chart(
    categories: Sequence[str],
    series: Sequence[Bars],
    *,
    x_label: str = "",
    y_label: str = "",
    value_format: str = "{:,.0f}",
) -> SafeString:
    """Horizontal bars, one per series side by side for each category, on a value axis from zero with its ticks and
    label, the categories named on the left and a legend below.

    Drawn in pixels like :func:`time_chart`: the chart takes the width of its container, bar lengths are
    percentages of the plot and every label is ``FONT_SIZE`` pixels whatever the width.
    """
    if not categories or not series:
        return mark_safe('<p class="muted chart-empty">—</p>')
    bar, gap = 14, 10
    group = bar * len(series) + gap
    labels = [_shorten(c, 200) for c in categories]
    label_w = max(_text_width(c) for c in labels) + 12
    if y_label:
        label_w += FONT_SIZE + 8
    values = [max(0.0, float(v)) for s in series for v in s.values]
    ticks = axis_ticks(max(values, default=0.0))
    x_max = ticks[-1]
    value_w = max(_text_width(value_format.format(v)) for v in values or [0.0]) + 10
    top, axis = 4, 34 if x_label else 22
    bottom = top + group * len(categories)
    height = bottom + axis
    parts = [
        '<div class="chart-figure">'
        f'<svg class="chart grouped-bar-chart" role="img" aria-label="{escape(x_label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT_SIZE}" font-family="system-ui, sans-serif" '
        f'style="display:block;width:calc(100% - {label_w + value_w:.0f}px);max-width:none;height:{height}px;'
        f'margin-left:{label_w:.0f}px;overflow:visible">'
    ]
    if x_label:
        parts.append(f"<title>{escape(x_label)}</title>")
    for v in ticks:
        x = _pct(v / x_max)
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text class="chart-tick" x="{x}" y="{bottom + 16}" text-anchor="middle" fill="#6b7280">'
            f"{escape(value_format.format(v))}</text>"
        )
    if x_label:
        parts.append(
            f'<text class="chart-x-label" x="50%" y="{bottom + 31}" text-anchor="middle" fill="#374151">'
            f"{escape(x_label)}</text>"
        )
    if y_label:
        mid = (top + bottom) / 2
        x_text = -label_w + FONT_SIZE
        parts.append(
            f'<text class="chart-y-label" x="{x_text:.1f}" y="{mid:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 {x_text:.1f} {mid:.1f})" fill="#374151">{escape(y_label)}</text>'
        )
    for i, (category, short) in enumerate(zip(categories, labels, strict=True)):
        y0 = top + i * group + gap / 2
        title = f"<title>{escape(category)}</title>" if short != category else ""
        parts.append(
            f'<text class="chart-category" x="-8" y="{y0 + bar * len(series) / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#374151">{title}{escape(short)}</text>'
        )
        for j, s in enumerate(series):
            value = float(s.values[i])
            w = max(0.0, value) / x_max
            y = y0 + j * bar
            parts.append(
                f'<rect class="chart-bar {escape(s.key)}" x="0" y="{y + 1:.1f}" width="{_pct(w)}" height="{bar - 2}" '
                f'rx="2" fill="{s.color}" fill-opacity="{s.opacity}"><title>{escape(s.label)}: '
                f"{escape(value_format.format(value))}</title></rect>"
            )
            parts.append(
                f'<text class="chart-value" x="{_pct(w)}" dx="5" y="{y + bar - 3:.1f}" fill="#111827">'
                f"{escape(value_format.format(value))}</text>"
            )
    parts.append(f'<line x1="0" x2="0" y1="{top}" y2="{bottom}" stroke="#9ca3af"/>')
    parts.append("</svg>")
    parts.append(_legend(series, label_w))
    parts.append("</div>")
    return mark_safe("".join(parts))
