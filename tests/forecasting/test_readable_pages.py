"""The forecast pages speak the buyer's language: model names, the busiest weekday, units, the weekly dashboard."""

from __future__ import annotations

import re

import pytest

from forecasting import services
from forecasting.models import SeriesBacktest
from forecasting.views import model_label, model_labels
from tests import factories
from tests.forecasting.test_app_runs import _history


def _daily_run():
    run = services.forecast_run_create(freq="D", horizon=7)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    return services.forecast_run_activate(run_id=run.pk)


def _visible(html: str) -> str:
    """The page's text without its tags and attributes."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
def test_the_product_page_names_the_model_the_busiest_weekday_and_the_units(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=84)  # a strong Saturday peak
    run = _daily_run()
    chosen = SeriesBacktest.objects.get(run=run, chosen=True)

    client.force_login(personas["buyer"])
    page = client.get("/forecasts/product/HIST/").content.decode()
    why = _visible(page.split("Why this forecast", 1)[1].split("</table>", 1)[0])
    assert model_label(chosen.model) in why and chosen.model not in why
    assert "Busiest weekday" in why and "Saturday" in why
    assert "Peak weekday" not in why and not re.search(r"\b5\.0\b", why)
    assert "units a day (recent average)" in why
    candidates = _visible(page.split("Candidates in the backtest", 1)[1].split("</table>", 1)[0])
    for backtest in SeriesBacktest.objects.filter(run=run):
        assert model_label(backtest.model) in candidates
        assert re.search(rf"\b{backtest.model}\b", candidates) is None or backtest.model in model_labels().values()


@pytest.mark.django_db
def test_the_dashboard_shows_readable_model_names(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=84)
    run = _daily_run()
    chosen = SeriesBacktest.objects.get(run=run, chosen=True)

    client.force_login(personas["buyer"])
    dashboard = client.get("/forecasts/").content.decode()
    assert f'title="{chosen.model}">{model_label(chosen.model)}</td>' in dashboard
    assert model_label(chosen.model) in dashboard.split("Model mix", 1)[1].split("</section>", 1)[0]


@pytest.mark.django_db
def test_the_active_run_gives_its_horizon_in_days_and_groups_large_counts(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=84)
    run = _daily_run()
    type(run).objects.filter(pk=run.pk).update(series_total=12345, series_done=12345)

    client.force_login(personas["buyer"])
    active = _visible(client.get("/forecasts/").content.decode().split("Active run", 1)[1].split("</table>", 1)[0])
    assert re.search(r"Horizon\s+7 days", active) and re.search(r"Series\s+12,345", active), active


@pytest.mark.django_db
def test_the_weekly_dashboard_says_no_weekly_run_is_active_and_links_the_daily_one(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=84)
    _daily_run()

    client.force_login(personas["buyer"])
    weekly = client.get("/forecasts/", {"freq": "W"}).content.decode()
    assert "No weekly forecast run is active yet." in weekly
    assert "No forecast run is active yet." not in weekly
    assert 'href="/forecasts/?freq=D">Show the active daily run</a>' in weekly


@pytest.mark.django_db
def test_the_run_admin_shows_quantile_levels_as_percentiles(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=84)
    run = _daily_run()

    client.force_login(personas["staff"])
    change = client.get(f"/admin/forecasting/forecastrun/{run.pk}/change/").content.decode()
    assert "P10, P50, P90" in change and "[0.1, 0.5, 0.9]" not in change


def test_every_model_code_of_the_engine_has_a_readable_name():
    from forecasting.engine.pipeline import MODEL_NAMES

    for code in (*MODEL_NAMES, "cold_start", "ensemble"):
        assert model_labels()[code] != code
