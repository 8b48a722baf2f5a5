"""A buyer opens the forecast pages in headless Chromium: a product with history and one without."""

from __future__ import annotations

import pytest

from forecasting import services
from tests import factories
from tests.browser_support import BROWSER_MARKS
from tests.forecasting.test_app_runs import _history

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_product_forecast_chart_with_and_without_history(ui, personas):
    cat = factories.CategoryFactory(name="Candles")
    product = factories.ProductFactory(sku="85123A", name="WHITE HANGING HEART T-LIGHT HOLDER", category=cat)
    factories.ProductFactory(sku="NEW-1", name="Brand new lantern", category=cat)
    _history([product], days=120)
    run = services.forecast_run_create(freq="D", horizon=21)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    ui.login("buyer")
    ui.open("/forecasts/product/85123A/")
    chart = ui.wait_for("svg.chart")
    assert chart.size["width"] > 600
    assert len(ui.find_all("svg.chart polyline")) == 2  # actual demand and the forecast median
    assert len(ui.find_all("svg.chart polygon")) == 1  # the P10–P90 band
    assert "Model chosen" in ui.driver.page_source
    assert len(ui.find_all("table.data tbody tr")) >= 21
    ui.shot("forecast-product")

    ui.open("/forecasts/product/NEW-1/")
    ui.wait_for("h1")
    assert "no sales history and no forecast yet" in ui.driver.page_source
    assert ui.find_all("svg.chart") == []

    ui.open("/forecasts/")
    ui.wait_for("h1")
    assert "Median WAPE by category" in ui.driver.page_source
    ui.shot("forecast-dashboard")
