"""The shared SVG charts: label widths, date ticks in the page's language, pixel-sized text and the y-axis label."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import translation

from retailai.core.charts import (
    FONT_SIZE,
    Bars,
    Line,
    _text_width,
    axis_ticks,
    bar_chart,
    grouped_bar_chart,
    time_chart,
)


def _days(first: date, n: int) -> list[tuple[date, float]]:
    return [(first + timedelta(days=i), float(i % 7)) for i in range(n)]


def _ticks(svg: str) -> list[str]:
    return re.findall(r'<text class="chart-tick"[^>]*>([^<]*)</text>', svg)


def test_wide_characters_count_as_a_whole_em():
    assert _text_width("AB", size=10) == 2 * 0.56 * 10
    assert _text_width("实际需求", size=10) == 40
    assert _text_width("P10–P90 区间", size=10) > _text_width("P10–P90 xx", size=10)


def test_value_axes_step_in_round_numbers():
    # Equal quarters of a round maximum would read 0, 6.25, 12.5, 18.75, 25.
    assert axis_ticks(24) == [0, 5, 10, 15, 20, 25]
    assert axis_ticks(7) == [0, 2, 4, 6, 8]
    assert axis_ticks(0.93) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert axis_ticks(480) == [0, 100, 200, 300, 400, 500]
    assert axis_ticks(100) == [0, 25, 50, 75, 100]
    assert axis_ticks(290_310) == [0, 100_000, 200_000, 300_000]
    assert axis_ticks(0) == axis_ticks(float("nan")) == [0, 0.25, 0.5, 0.75, 1.0]
    for value in (0.04, 3, 11, 18, 1234, 56_789):
        ticks = axis_ticks(value)
        step = ticks[1]
        assert ticks[-2] < value <= ticks[-1] and 3 <= len(ticks) <= 7, (value, ticks)
        assert f"{step:g}".lstrip("0.").rstrip("0") in ("1", "2", "25", "5"), (value, ticks)


def test_a_time_chart_labels_its_value_axis_with_those_steps():
    svg = time_chart([Line("Demand", [(date(2011, 9, 1), 24.0), (date(2011, 9, 2), 3.0)])])
    assert re.findall(r'<text x="-6"[^>]*>([^<]*)</text>', svg) == ["0", "5", "10", "15", "20", "25"]


def test_a_four_week_range_gets_day_ticks():
    with translation.override("en"):
        svg = time_chart([Line("Demand", _days(date(2012, 1, 2), 28))])
    ticks = _ticks(svg)
    assert ticks[:2] == ["2 Jan", "9 Jan"] and len(ticks) == 4


def test_a_long_range_gets_month_ticks_in_the_page_language():
    line = [Line("Demand", _days(date(2011, 9, 1), 120))]
    with translation.override("en"):
        assert _ticks(time_chart(line))[0] == "Sep 2011"
    with translation.override("zh-hans"):
        assert _ticks(time_chart(line))[0] == "2011年9月"


def test_text_is_drawn_in_pixels_with_a_visible_y_axis_label():
    svg = time_chart([Line("Demand", _days(date(2012, 1, 2), 28))], y_label="Units per period", height=280)
    assert "viewBox" not in svg.split(">", 2)[1]  # the outer SVG does not scale its text with the card
    assert f'font-size="{FONT_SIZE}"' in svg and "height:280px" in svg
    assert re.search(r'<text class="chart-y-label"[^>]*>Units per period</text>', svg)
    bars = bar_chart([("gbm", 3.0), ("Seasonal naive", 1.0)])
    assert "viewBox" not in bars and f'font-size="{FONT_SIZE}"' in bars


def _polyline(svg: str, key: str) -> list[tuple[float, float]]:
    points = re.search(rf'<polyline class="chart-line {key}" points="([^"]*)"', svg).group(1)
    return [tuple(float(v) for v in p.split(",")) for p in points.split()]


def test_a_stock_level_is_drawn_in_steps_and_demand_as_a_line():
    """Stock holds its level until the next period and jumps on a delivery; demand keeps straight segments."""
    days = [date(2024, 3, 4) + timedelta(days=i) for i in range(3)]
    svg = time_chart(
        [
            Line("Stock", list(zip(days, [0.0, 100.0, 90.0], strict=True)), key="stock", step=True),
            Line("Demand", list(zip(days, [10.0, 10.0, 20.0], strict=True)), key="demand"),
        ]
    )

    # x runs 0 to 1000 over the three days; y is 270 px at 0 units and 14 px at 100 (the axis top).
    assert _polyline(svg, "stock") == [(0, 270), (500, 270), (500, 14), (1000, 14), (1000, 39.6)]
    assert _polyline(svg, "demand") == [(0, 244.4), (500, 244.4), (1000, 218.8)]


def test_grouped_bars_side_by_side_on_a_labelled_axis_with_a_legend():
    svg = grouped_bar_chart(
        ["Teas", "Jams"],
        [Bars("Suggested", [80, 20], key="suggested"), Bars("Approved", [100, 0], key="approved")],
        x_label="Units",
        y_label="Supplier",
    )

    assert "viewBox" not in svg and f'font-size="{FONT_SIZE}"' in svg
    # The axis runs to 100 in four steps; Teas' approved 100 fills the plot, Jams' approved 0 has no length.
    assert _ticks(svg) == ["0", "25", "50", "75", "100"]
    widths = re.findall(r'<rect class="chart-bar (\w+)"[^>]* width="([^"]*)"', svg)
    assert widths == [("suggested", "80.00%"), ("approved", "100.00%"), ("suggested", "20.00%"), ("approved", "0.00%")]
    assert re.findall(r'<text class="chart-category"[^>]*>([^<]*)</text>', svg) == ["Teas", "Jams"]
    assert re.search(r'<text class="chart-x-label"[^>]*>Units</text>', svg)
    assert re.search(r'<text class="chart-y-label"[^>]*>Supplier</text>', svg)
    assert re.findall(r'<li class="(\w+)"[^>]*><svg[^>]*><rect[^>]*/></svg><span>(\w+)</span>', svg) == [
        ("suggested", "Suggested"),
        ("approved", "Approved"),
    ]
    assert grouped_bar_chart([], []) == '<p class="muted chart-empty">—</p>'
