"""A buyer opens the forecast pages in headless Chromium: a product with history and promotions, one without."""

from __future__ import annotations

from datetime import date

import pytest

from forecasting import services
from forecasting.models import ForecastRun
from tests import factories
from tests.browser_support import BROWSER_MARKS
from tests.forecasting.test_app_runs import _promoted_history

pytestmark = BROWSER_MARKS

# Boxes (in CSS pixels) of the chart's parts, read in the browser after layout: the chart's figure (plot and
# legend), its legend entries, its marker labels, and the rendered height of its tick labels.
BOXES_JS = """
const svg = document.querySelector('svg.chart');
const figure = svg.closest('.chart-figure');
const box = el => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
const card = box(figure.closest('.card'));
return {
  view: card,
  legend: Array.from(figure.querySelectorAll('.chart-legend li')).map(box),
  markers: Array.from(svg.querySelectorAll('text')).filter(t => t.previousSibling &&
    t.previousSibling.classList && t.previousSibling.classList.contains('chart-marker')).map(box),
  font: Array.from(svg.querySelectorAll('text.chart-tick')).map(t => parseFloat(getComputedStyle(t).fontSize) *
    t.getScreenCTM().a),
  y_label: Array.from(svg.querySelectorAll('text.chart-y-label')).map(t => t.textContent),
};
"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _forecast_all():
    run = services.forecast_run_create(freq="D", horizon=21)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)
    return run


@pytest.mark.django_db(transaction=True)
def test_product_forecast_chart_with_backtest_and_promotions_and_without_history(ui, personas, settings):
    settings.FORECAST_PRICE_COVARIATE = True  # the page names the price elasticity too
    cat = factories.CategoryFactory(name="Candles")
    product = factories.ProductFactory(sku="85123A", name="WHITE HANGING HEART T-LIGHT HOLDER", category=cat)
    factories.ProductFactory(sku="NEW-1", name="Brand new lantern", category=cat)
    _promoted_history(product, noisy=True)
    factories.PromotionFactory(code="XMAS", name="Christmas lights", product=product, start_date=date(2011, 12, 12),
                               end_date=date(2011, 12, 18), is_feature=True)  # fmt: skip
    _forecast_all()

    ui.login("buyer")
    ui.open("/forecasts/product/85123A/")
    chart = ui.wait_for("svg.chart")
    assert chart.size["width"] > 600
    assert len(ui.find_all("svg.chart polyline.actual")) == 1
    assert len(ui.find_all("svg.chart polyline.forecast")) == 1
    assert len(ui.find_all("svg.chart polygon.forecast-band")) == 1
    # The last backtest origin's median and band, drawn over the history the model had not seen.
    assert len(ui.find_all("svg.chart polyline.backtest")) == 1
    assert len(ui.find_all("svg.chart polygon.backtest-band")) == 1
    # The five past promotions inside the 120 days shown (every fourth week) and the planned one.
    assert len(ui.find_all("svg.chart rect.chart-span.promotion")) == 6
    source = ui.driver.page_source
    for label in ("Actual demand", "Forecast (median)", "Backtest forecast (median)", "Backtest P10–P90",
                  "Promotion", "backtest origin", "forecast starts"):  # fmt: skip
        assert label in source
    assert "Christmas lights" in ui.find("table.promotions").text
    drivers = ui.find("table.kv").text
    assert "Sales lift in feature/ad promotions" in drivers and "Price elasticity" in drivers
    boxes = ui.driver.execute_script(BOXES_JS)
    assert len(boxes["legend"]) == 6 and len(boxes["markers"]) == 2
    assert boxes["y_label"] == ["Units per period"]
    assert boxes["font"] and all(11.5 <= f <= 13.5 for f in boxes["font"]), boxes["font"]
    assert all(_inside(b, boxes["view"]) for b in boxes["legend"] + boxes["markers"]), boxes
    legend_and_markers = boxes["legend"] + boxes["markers"]
    for i, a in enumerate(legend_and_markers):
        for b in legend_and_markers[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    ui.shot("forecast-product")
    ui.driver.execute_script("document.querySelector('table.promotions').scrollIntoView()")
    ui.shot("forecast-product-promotions")

    ui.open("/forecasts/product/NEW-1/")
    ui.wait_for("h1")
    assert "no sales history and no forecast yet" in ui.driver.page_source
    assert ui.find_all("svg.chart") == []
    ui.shot("forecast-product-no-history")

    ui.open("/forecasts/")
    ui.wait_for("h1")
    assert "Median WAPE by category" in ui.driver.page_source
    assert "Candles" in ui.find("table.by-category").text
    ui.shot("forecast-dashboard")
    ui.driver.execute_script("document.querySelector('table.by-category').scrollIntoView()")
    ui.shot("forecast-dashboard-categories")


@pytest.mark.django_db(transaction=True)
def test_product_forecast_chart_without_promotions(ui, personas):
    from tests.forecasting.test_app_runs import _history

    product = factories.ProductFactory(sku="PLAIN", name="Plain mug")
    _history([product], days=120)
    _forecast_all()

    ui.login("buyer")
    ui.open("/forecasts/product/PLAIN/")
    ui.wait_for("svg.chart")
    assert len(ui.find_all("svg.chart polyline.backtest")) == 1
    assert ui.find_all("svg.chart rect.chart-span") == []
    assert "Promotion" not in ui.find("svg.chart").get_attribute("innerHTML")
    assert ui.find_all("table.promotions") == []
    ui.shot("forecast-product-plain")


@pytest.mark.django_db(transaction=True)
def test_a_buyer_sees_which_products_stopped_selling(ui, personas):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from retailai.commerce.models import OrderLine
    from tests.forecasting.test_app_runs import _history

    cat = factories.CategoryFactory(name="Mugs")
    steady = factories.ProductFactory(sku="PLAIN", name="Plain mug", category=cat)
    gone = factories.ProductFactory(sku="SPOTTY", name="Spotty mug", category=cat)
    _history([steady, gone], days=90)
    OrderLine.objects.filter(
        product=gone, placed_at__gte=datetime(2011, 11, 21, tzinfo=ZoneInfo("Europe/London"))
    ).delete()  # the last 14 days of the history without a sale
    _forecast_all()

    ui.login("buyer")
    ui.open("/forecasts/")
    card = ui.wait_for("section.sales-stopped")
    rows = card.find_elements("css selector", "tbody tr")
    assert [r.text.split()[0] for r in rows] == ["SPOTTY"]
    assert "14" in rows[0].text
    ui.driver.execute_script("document.querySelector('section.sales-stopped').scrollIntoView()")
    ui.shot("forecast-dashboard-sales-stopped")
    rows[0].find_element("css selector", "a").click()
    notice = ui.wait_for("p.sales-stopped")
    assert "No sales in the last 14 days" in notice.text
    ui.shot("forecast-product-sales-stopped")


@pytest.mark.django_db(transaction=True)
def test_a_buyer_sees_the_days_out_of_stock_on_the_forecast_chart(ui, personas):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from inventory.models import StockMovement
    from inventory.services import stock_count_set
    from retailai.commerce.models import OrderLine
    from tests.forecasting.test_app_runs import _history

    london = ZoneInfo("Europe/London")
    product = factories.ProductFactory(sku="SPOTTY", name="Spotty mug")
    _history([product], days=90)
    OrderLine.objects.filter(
        product=product,
        placed_at__gte=datetime(2011, 11, 9, tzinfo=london),
        placed_at__lt=datetime(2011, 11, 19, tzinfo=london),
    ).delete()  # ten days out of stock in November, refilled on the 19th
    wh = factories.LocationFactory(code="wh")
    for counted, at in (
        (120, datetime(2011, 9, 6, 7)),
        (0, datetime(2011, 11, 8, 21)),
        (80, datetime(2011, 11, 19, 6)),
    ):
        change = stock_count_set(product=product, location=wh, counted=counted)
        StockMovement.objects.filter(pk=change.movement.pk).update(at=at.replace(tzinfo=london))
    _forecast_all()

    ui.login("buyer")
    ui.open("/forecasts/product/SPOTTY/")
    notice = ui.wait_for("p.stockout")
    assert "10 days without stock were left out" in notice.text
    spans = ui.find_all("svg.chart rect.chart-span.stockout")
    assert len(spans) == 1
    assert "Out of stock" in ui.find(".chart-figure .chart-legend").get_attribute("innerHTML")
    assert ui.find_all("p.sales-stopped") == []
    ui.shot("forecast-product-stockout")

    ui.open("/forecasts/")
    card = ui.wait_for("section.lost-to-stockouts")
    rows = card.find_elements("css selector", "tbody tr")
    assert [r.text.split()[0] for r in rows] == ["SPOTTY"]
    ui.driver.execute_script("document.querySelector('section.lost-to-stockouts').scrollIntoView()")
    ui.shot("forecast-dashboard-lost-to-stockouts")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1024, 1440])
def test_staff_start_a_run_with_a_horizon_from_the_dashboard(ui, personas, width):
    with ui.viewport(width, 900):
        ui.login("staff")
        ui.open("/forecasts/?freq=W")
        field = ui.wait_for("form.run-now input[name=horizon]")
        assert field.get_attribute("placeholder") == str(services.default_horizon("W"))
        head = ui.find(".page-head").rect
        form = ui.find("form.run-now").rect
        assert form["x"] + form["width"] <= head["x"] + head["width"] + 0.5  # the form stays inside the heading row
        assert ui.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
        field.send_keys("6")
        ui.shot(f"forecast-run-now-{width}")
        ui.find("form.run-now button[type=submit]").click()
        message = ui.wait_for(".messages li.success").text
    assert "queued: 6 weeks ahead" in message
    run = ForecastRun.objects.get()
    assert (run.freq, run.horizon) == ("W", 6)
