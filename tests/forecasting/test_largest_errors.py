"""The dashboard's largest forecast errors rank products by the value the backtest missed, not by WAPE, which
puts the smallest sellers first; runs store each series' backtest demand and absolute error for it."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from forecasting.models import SeriesBacktest
from forecasting.selectors import largest_errors
from tests import factories
from tests.forecasting.test_app_runs import _history
from tests.forecasting.test_readable_pages import _daily_run, _visible


def _chosen(rows: list[tuple]) -> pd.DataFrame:
    columns = ["product__sku", "product__list_price", "wape", "actual_total", "abs_error_total"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[1:]})


def test_the_value_missed_ranks_a_best_seller_above_a_one_off_sale():
    chosen = _chosen(
        [
            ("ONE-OFF", 5.0, 240.0, 1.0, 240.0),  # 240 units missed at 5: 1,200
            ("BEST", 2.0, 0.3, 10_000.0, 3_000.0),  # 3,000 units missed at 2: 6,000
            ("QUIET", 1.0, 0.5, 100.0, 50.0),  # 50
            ("NO-PRICE", None, 0.9, 20_000.0, 18_000.0),  # most units, but no value to rank by
            ("OLD-RUN", 3.0, 9.0, None, None),  # stored before the totals were
        ]
    )
    rows = largest_errors(chosen, limit=10)
    assert [r["product__sku"] for r in rows] == ["BEST", "ONE-OFF", "QUIET", "NO-PRICE", "OLD-RUN"]
    best = rows[0]
    assert best["error_value"] == pytest.approx(6_000.0)
    assert best["error_share_pct"] == pytest.approx(100 * 6_000 / 7_250)
    assert rows[3]["error_value"] is None and rows[3]["error_share_pct"] is None
    assert [r["product__sku"] for r in largest_errors(chosen, limit=2)] == ["BEST", "ONE-OFF"]


def test_without_prices_the_units_missed_rank_and_share():
    chosen = _chosen([("A", None, 0.2, 100.0, 20.0), ("B", None, 3.0, 10.0, 30.0), ("C", None, 1.0, None, None)])
    rows = largest_errors(chosen, limit=10)
    assert [r["product__sku"] for r in rows] == ["B", "A", "C"]
    assert rows[0]["error_share_pct"] == pytest.approx(60.0)


@pytest.mark.django_db
def test_a_run_stores_the_backtest_totals_and_the_dashboard_ranks_by_them(client, personas):
    big = factories.ProductFactory(sku="BIG", list_price="4.00")
    small = factories.ProductFactory(sku="SMALL", list_price="4.00")
    _history([small, big], days=84)  # BIG sells twice as much, both with a steady weekly pattern
    channel = factories.ChannelFactory(code="web")
    for day in (64, 72, 80):  # and BIG has one-off bulk orders on different weekdays in the backtest windows
        at = datetime(2011, 9, 12, 12, 0, tzinfo=UTC) + timedelta(days=day)
        order = factories.OrderFactory(channel=channel, customer=None, placed_at=at)
        factories.OrderLineFactory(order=order, line_number=1, product=big, quantity=300, placed_at=at)
    run = _daily_run()

    for backtest in SeriesBacktest.objects.filter(run=run):
        assert backtest.actual_total > 0 and backtest.abs_error_total >= 0
        assert backtest.abs_error_total / backtest.actual_total == pytest.approx(backtest.wape, rel=1e-3, abs=1e-3)
    chosen = {b.product.sku: b for b in SeriesBacktest.objects.filter(run=run, chosen=True)}
    assert chosen["BIG"].actual_total > 1.5 * chosen["SMALL"].actual_total
    assert chosen["BIG"].abs_error_total > chosen["SMALL"].abs_error_total + 100

    client.force_login(personas["buyer"])
    page = client.get("/forecasts/").content.decode()
    section = page.split('id="largest-errors"', 1)[1].split("</section>", 1)[0]
    order = re.findall(r'<td class="code"><a [^>]*>([^<]+)</a>', section)
    expected = sorted(chosen, key=lambda sku: -chosen[sku].abs_error_total)
    assert order == expected
    units = chosen[expected[0]].abs_error_total
    assert f"{units:,.0f}" in _visible(section) and f"{units * 4:,.0f}" in _visible(section)
    assert not math.isnan(units)
