"""Days of cover: how long stock lasts at the forecast, on the stock list a buyer checks every morning."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from inventory.engine.cover import daily_from_periods, days_of_cover
from inventory.selectors import STOCK_COVER_DAYS, stock_cover, stock_sorted_by_cover
from tests import factories
from tests.inventory.conftest import active_forecast

STOCK = "/stock/"


# ------------------------------------------------------------------------------------------------------ engine


def test_cover_runs_out_within_the_day_the_cumulative_demand_passes_the_stock():
    assert days_of_cover(np.array([2.0, 2.0, 2.0, 2.0]), 5) == pytest.approx(2.5)
    # A day without demand costs nothing: 2 units last through two quiet days and half of a 4-unit day.
    assert days_of_cover(np.array([0.0, 0.0, 4.0]), 2) == pytest.approx(2.5)


def test_without_stock_cover_ends_at_the_first_demand_and_ample_stock_has_no_number():
    assert days_of_cover(np.array([3.0, 3.0]), 0) == 0.0
    assert days_of_cover(np.array([3.0, 3.0]), -4) == 0.0
    assert days_of_cover(np.array([0.0, 0.0, 4.0]), 0) == 2.0
    assert days_of_cover(np.array([3.0, 3.0]), 7) is None
    # Nothing to sell: nothing runs out, with or without stock.
    assert days_of_cover(np.zeros(10), 1) is None
    assert days_of_cover(np.zeros(10), 0) is None


def test_a_weekly_forecast_is_spread_over_its_days():
    daily = daily_from_periods(np.array([7.0, 14.0]), 7)

    assert daily.tolist() == [1.0] * 7 + [2.0] * 7
    assert days_of_cover(daily, 9) == pytest.approx(8.0)


# ---------------------------------------------------------------------------------------------------- selector


@pytest.fixture
def shelf(db):
    """A warehouse and a shop; products with daily forecasts from today and a 5-day primary supplier."""
    today = timezone.localdate()
    warehouse = factories.LocationFactory(code="wh", name="Warehouse")
    shop = factories.LocationFactory(code="shop", name="Shop")
    supplier = factories.SupplierFactory(code="acme", name="Acme")
    products = {sku: factories.ProductFactory(sku=sku, name=f"Product {sku}") for sku in ("A", "B", "C", "D", "E")}
    for p in products.values():
        factories.SupplierProductFactory(supplier=supplier, product=p, lead_time_days=5, lead_time_std_days=0)
    return {"today": today, "wh": warehouse, "shop": shop, "products": products}


def _level(product, location, on_hand, on_order=0, reserved=0):
    return factories.StockLevelFactory(
        product=product, location=location, on_hand=on_hand, on_order=on_order, reserved=reserved
    )


@pytest.mark.django_db
def test_cover_counts_available_stock_then_what_is_on_order(shelf):
    p = shelf["products"]
    active_forecast({p["A"]: 10.0}, start=shelf["today"], horizon=60)
    level = _level(p["A"], shelf["wh"], on_hand=35, on_order=40, reserved=5)

    [row] = stock_cover([level], today=shelf["today"])

    assert row.has_forecast
    assert row.demand_ahead == pytest.approx(280.0)  # 28 days of 10
    assert row.cover_days == pytest.approx(3.0)  # 30 available
    assert row.cover_with_order == pytest.approx(7.0)  # 70 with the order
    assert row.lead_time_days == 5
    assert not row.runs_short


@pytest.mark.django_db
def test_a_row_whose_stock_and_orders_run_out_inside_the_lead_time_runs_short(shelf):
    p = shelf["products"]
    active_forecast({p["A"]: 10.0}, start=shelf["today"], horizon=60)

    [row] = stock_cover([_level(p["A"], shelf["wh"], on_hand=30, on_order=10)], today=shelf["today"])

    assert row.cover_with_order == pytest.approx(4.0)
    assert row.runs_short


@pytest.mark.django_db
def test_the_past_of_the_forecast_is_skipped_and_a_rise_ahead_shortens_the_cover(shelf):
    p = shelf["products"]
    today = shelf["today"]
    run = active_forecast({p["A"]: 1.0}, start=today - timedelta(days=10), horizon=70)
    # From the third day on demand jumps to 20 a day (a season or a promotion the forecast knows of).
    run.forecasts.filter(date__gte=today + timedelta(days=2)).update(q10=20, q50=20, q90=20)

    [row] = stock_cover([_level(p["A"], shelf["wh"], on_hand=42)], today=today)

    # 1 + 1 over the first two days, then 40 more last two days of 20.
    assert row.cover_days == pytest.approx(4.0)


@pytest.mark.django_db
def test_the_location_forecast_wins_over_the_all_locations_one(shelf):
    from forecasting.models import Forecast

    p = shelf["products"]
    today = shelf["today"]
    run = active_forecast({p["A"]: 10.0}, start=today, horizon=60)
    Forecast.objects.bulk_create(
        Forecast(run=run, product=p["A"], location_code="shop", date=today + timedelta(days=t), q10=2, q50=2, q90=2,
                 quantiles={}, model="hand-made")
        for t in range(60)
    )  # fmt: skip

    shop, wh = stock_cover([_level(p["A"], shelf["shop"], 20), _level(p["A"], shelf["wh"], 20)], today=today)

    assert shop.cover_days == pytest.approx(10.0)
    assert wh.cover_days == pytest.approx(2.0)


@pytest.mark.django_db
def test_a_weekly_run_that_began_before_today_counts_only_the_days_left(shelf):
    p = shelf["products"]
    today = shelf["today"]
    active_forecast({p["A"]: 70.0}, start=today - timedelta(days=3), horizon=12, freq="W")

    [row] = stock_cover([_level(p["A"], shelf["wh"], on_hand=25)], today=today)

    assert row.demand_ahead == pytest.approx(280.0)
    assert row.cover_days == pytest.approx(2.5)


@pytest.mark.django_db
def test_soonest_out_first_puts_unknown_and_ample_cover_last(shelf):
    p = shelf["products"]
    today = shelf["today"]
    active_forecast({p["A"]: 10.0, p["B"]: 10.0, p["C"]: 10.0, p["D"]: 1.0}, start=today, horizon=60)
    rows = stock_cover(
        [
            _level(p["A"], shelf["wh"], on_hand=50),  # 5 days
            _level(p["B"], shelf["wh"], on_hand=10, on_order=10),  # 2 days
            _level(p["C"], shelf["wh"], on_hand=5000),  # past the look-ahead, 280 forecast
            _level(p["D"], shelf["wh"], on_hand=5000),  # past the look-ahead, 28 forecast
            _level(p["E"], shelf["wh"], on_hand=1),  # no forecast
        ],
        today=today,
    )

    ordered = [r.level.product.sku for r in stock_sorted_by_cover(rows)]

    assert ordered == ["B", "A", "C", "D", "E"]
    assert rows[2].cover_days is None and rows[4].has_forecast is False


# -------------------------------------------------------------------------------------------------------- page


@pytest.fixture
def stocked(shelf, personas):
    p = shelf["products"]
    active_forecast({p["A"]: 10.0, p["B"]: 10.0, p["C"]: 2.0}, start=shelf["today"], horizon=60)
    _level(p["A"], shelf["wh"], on_hand=80)  # 8 days: enough
    _level(p["B"], shelf["wh"], on_hand=20, on_order=10)  # 3 days with the order: short
    _level(p["C"], shelf["wh"], on_hand=1000)  # past the look-ahead
    _level(p["E"], shelf["wh"], on_hand=0)  # no forecast, out of stock
    return shelf


@pytest.mark.django_db
def test_the_stock_list_shows_cover_and_the_short_badge(client, personas, stocked):
    client.force_login(personas["buyer"])

    html = client.get(STOCK).content.decode()

    assert html.count(">20 short<") == 1
    assert "5-day lead time of the primary supplier" in html  # B: 50 over the lead time, 30 in stock and on order
    assert html.count('badge warn">Runs short') == 1
    assert f"&gt; {STOCK_COVER_DAYS}" in html
    assert "3 with on order" in html
    assert 'href="/forecasts/product/B/"' in html


@pytest.mark.django_db
def test_the_stock_list_filters_rows_that_run_short_and_orders_by_cover(client, personas, stocked):
    client.force_login(personas["buyer"])

    short = client.get(STOCK, {"short": "on"}).context["page"]
    by_cover = client.get(STOCK, {"sort": "cover"}).context["page"]

    assert [r.level.product.sku for r in short] == ["B"]
    assert [r.level.product.sku for r in by_cover] == ["B", "A", "C", "E"]


@pytest.mark.django_db
def test_an_unknown_order_falls_back_to_sku_order(client, personas, stocked):
    client.force_login(personas["buyer"])

    response = client.get(STOCK, {"sort": "nonsense"})

    assert response.status_code == 200
    assert [r.level.product.sku for r in response.context["page"]] == ["A", "B", "C", "E"]


@pytest.mark.django_db
def test_without_an_active_forecast_the_list_says_so(client, personas, shelf):
    _level(shelf["products"]["A"], shelf["wh"], on_hand=3)
    client.force_login(personas["buyer"])

    html = client.get(STOCK).content.decode()

    assert "No active forecast yet" in html
    assert 'badge warn">Runs short' not in html and "short in" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["marketer", "supplier_partner", "channel_partner", "outsider"])
def test_cover_sorting_is_refused_to_other_roles(client, personas, stocked, persona):
    client.force_login(personas[persona])

    assert client.get(STOCK, {"sort": "cover", "short": "on"}).status_code == 403


@pytest.mark.django_db
def test_an_empty_shelf_nobody_buys_from_is_not_urgent_and_empty_shelves_rank_by_demand(shelf):
    p = shelf["products"]
    today = shelf["today"]
    active_forecast({p["A"]: 0.0, p["B"]: 2.0, p["C"]: 9.0}, start=today, horizon=60)
    rows = stock_cover(
        [_level(p["A"], shelf["wh"], 0), _level(p["B"], shelf["wh"], 0), _level(p["C"], shelf["wh"], 0)], today=today
    )

    assert rows[0].cover_days is None and not rows[0].runs_short
    assert rows[1].cover_days == 0.0 and rows[1].runs_short
    assert [r.level.product.sku for r in stock_sorted_by_cover(rows)] == ["C", "B", "A"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1024, 1366])
def test_the_stock_list_fits_the_window_soonest_out_first(ui, personas, shelf, width):
    """With a long name, a long location, six-digit stock and both cover lines, every column stays inside the
    table's box at 1024 and 1366 px, and "Soonest out first" puts the row that runs short on top."""
    p = shelf["products"]
    big = factories.LocationFactory(code="far", name="Northern regional distribution centre")
    p["A"].name = "SET OF 3 CAKE TINS PANTRY DESIGN WITH A VERY LONG NAME"
    p["A"].save()
    active_forecast({p["A"]: 40000.0, p["B"]: 1.0}, start=shelf["today"], horizon=60)
    _level(p["A"], big, on_hand=123456, on_order=10000, reserved=1200)
    _level(p["B"], big, on_hand=100)
    with ui.viewport(width):
        ui.login("buyer")
        ui.open("/stock/?sort=cover")
        ui.wait_for("#stock-rows tbody tr")
        overflow = ui.table_overflow("#stock-rows")
        assert overflow[0] <= 0 and overflow[1] <= 0, overflow
        first = ui.find("#stock-rows tbody tr")
        assert first.find_element(ui.by.CSS_SELECTOR, "td.code").text == "A"
        assert "short" in first.find_element(ui.by.CSS_SELECTOR, "td.cover").text
        ui.shot(f"stock-cover-{width}")


@pytest.mark.django_db
def test_cover_counts_from_today_while_the_forecast_reaches_it_else_from_where_it_starts(client, personas, shelf):
    from inventory.selectors import stock_cover_start

    today = shelf["today"]
    fresh = active_forecast({shelf["products"]["A"]: 1.0}, start=today - timedelta(days=2), horizon=28)
    past = active_forecast({shelf["products"]["A"]: 1.0}, start=today - timedelta(days=400), horizon=28)
    weekly = active_forecast({shelf["products"]["A"]: 7.0}, start=today - timedelta(days=20), horizon=3, freq="W")

    assert stock_cover_start(fresh, today) == today
    assert stock_cover_start(past, today) == today - timedelta(days=400)  # a sample of past data
    assert stock_cover_start(weekly, today) == today  # its third week ends tomorrow
    assert stock_cover_start(None, today) == today
    # The page says where it counts from when that is not today.
    client.force_login(personas["buyer"])
    _level(shelf["products"]["A"], shelf["wh"], on_hand=5)
    html = client.get(STOCK).content.decode()
    assert "Cover is counted from" in html and ">5<" in html
