"""The forecast reaches every cover: a run started without a horizon forecasts as far as the longest cover a
suggested purchase order needs (lead time + its allowance for late deliveries + review period), read from the
supply terms through ``FORECAST_MIN_HORIZON_DAYS``, between the fixed defaults and the cap, and as far as the
history leaves room for three backtest windows of that length and one more to learn from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from forecasting import services
from forecasting.models import Forecast
from inventory import purchasing
from inventory.models import PurchaseOrderLine
from inventory.selectors import planning_horizon_days
from tests import factories
from tests.forecasting.test_app_runs import _history

pytestmark = pytest.mark.django_db


def _long_lead(*, lead_time_days: int = 43, lead_time_std_days: str = "2.5", active: bool = True, sku: str = "SILK"):
    """A product stocked at an active location, supplied only by a far-away supplier."""
    supplier = factories.SupplierFactory(code=f"pearl-river-{sku.lower()}", name="Pearl River Trading", active=active)
    product = factories.ProductFactory(sku=sku, name="Silk scarf")
    location = factories.LocationFactory(code=f"wh-{sku.lower()}")
    factories.StockLevelFactory(product=product, location=location, on_hand=0)
    terms = factories.SupplierProductFactory(
        supplier=supplier, product=product, lead_time_days=lead_time_days,
        lead_time_std_days=Decimal(lead_time_std_days),
    )  # fmt: skip
    return terms


def _sold_over(days: int) -> None:
    """Two sales of a merchandise product `days` days apart, first and last counted: a history of that length."""
    product = factories.ProductFactory(sku=f"HIST{days}")
    last = factories.OrderLineFactory(product=product, customer=None).placed_at
    # Calendar days in local time: 24-hour steps across a clock change would move the first sale to another date.
    order = factories.OrderFactory(placed_at=timezone.localtime(last) - timedelta(days=days - 1))
    factories.OrderLineFactory(order=order, product=product, customer=None)


def test_a_long_lead_time_sets_the_horizon_to_its_cover(settings):
    """43 days' lead time, 2.5 days' deviation (allowance: 1 × 2.5, rounded up to 3) and a 7-day review: 53 days."""
    settings.PO_REVIEW_PERIOD_DAYS = 7
    settings.PO_LEAD_TIME_STD_FACTOR = 1.0
    _long_lead()
    factories.SupplierProductFactory(lead_time_days=5)  # a nearby supplier of another product, stocked nowhere
    _sold_over(4 * 53)  # room for three 53-day backtests and as much again to learn from

    run = services.forecast_run_create(freq="D")

    assert planning_horizon_days() == 53
    assert run.horizon == 53
    assert run.job.parameters["horizon"] == 53


def test_weekly_runs_count_the_cover_in_weeks_rounded_up(settings):
    """92 days' lead time is 14 weeks (13.1 rounded up) and the 7-day review one more: 15 weeks, past the 12."""
    settings.PO_REVIEW_PERIOD_DAYS = 7
    _long_lead(lead_time_days=92, lead_time_std_days="0")
    _sold_over(4 * 15 * 7)

    assert planning_horizon_days(period_days=7) == 15 * 7
    assert services.forecast_run_create(freq="W").horizon == 15


def test_short_lead_times_keep_the_fixed_horizons(assortment):
    # TEA and MUG: 7 + 7 days; JAM and SALT: 3 + 7 days. All inside 28 days (and 12 weeks).
    assert planning_horizon_days() == 14

    assert services.forecast_run_create(freq="D").horizon == 28
    assert services.forecast_run_create(freq="W").horizon == 12


def test_an_explicit_horizon_wins():
    _long_lead()

    assert services.forecast_run_create(freq="D", horizon=7).horizon == 7
    assert services.forecast_run_create(freq="D", horizon=200).horizon == 200  # the cap is for the default only


def test_the_horizon_stops_at_the_cap(settings):
    settings.FORECAST_MAX_HORIZON_DAYS = 182
    _long_lead(lead_time_days=400)
    _sold_over(4 * 182)

    assert services.forecast_run_create(freq="D").horizon == 182
    assert services.forecast_run_create(freq="W").horizon == 26
    settings.FORECAST_MAX_HORIZON_DAYS = 40
    assert services.forecast_run_create(freq="D").horizon == 40
    settings.FORECAST_MAX_HORIZON_DAYS = 10  # never below the fixed horizons
    assert services.forecast_run_create(freq="D").horizon == 28


def test_a_short_history_keeps_the_horizon_its_backtests_have_room_for(settings):
    """The demo's 100 days leave room for three backtests of 25 days: below 28, so 28 stays. 160 days: 40."""
    settings.PO_REVIEW_PERIOD_DAYS = 7
    _long_lead()  # a 53-day cover
    _sold_over(100)
    assert services.forecast_run_create(freq="D").horizon == 28
    assert services.forecast_run_create(freq="W").horizon == 12

    _sold_over(160)
    assert services.forecast_run_create(freq="D").horizon == 40


def test_terms_the_suggestions_never_plan_do_not_count():
    _long_lead(active=False, sku="OLD")  # an inactive supplier
    secondary = _long_lead(lead_time_days=90, sku="ALT")
    secondary.is_primary = False
    secondary.save()
    location = factories.LocationFactory(code="closed", active=False)
    closed = factories.SupplierProductFactory(lead_time_days=120)
    factories.StockLevelFactory(product=closed.product, location=location)

    assert planning_horizon_days() == 0
    assert services.forecast_run_create(freq="D").horizon == 28


def test_without_the_hook_the_fixed_horizons_stay(settings):
    settings.FORECAST_MIN_HORIZON_DAYS = ""
    _long_lead()

    assert services.forecast_run_create(freq="D").horizon == 28
    assert services.forecast_run_create(freq="W").horizon == 12


def test_the_nightly_run_reaches_the_longest_cover(settings):
    from forecasting.models import ForecastRun
    from forecasting.tasks import forecast_nightly_task

    settings.PO_REVIEW_PERIOD_DAYS = 7
    _long_lead()
    _sold_over(4 * 53)

    run_id = forecast_nightly_task.apply().get()

    assert ForecastRun.objects.get(pk=run_id).horizon == 53


def _forecast(horizon: int | None):
    """Run a quick forecast (two baseline models) in process and make it the active one."""
    run = services.forecast_run_create(freq="D", horizon=horizon, models=["seasonal_naive", "moving_average"])
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    return services.forecast_run_activate(run_id=run.pk)


def test_a_long_lead_suggestion_is_planned_on_forecast_periods_only(settings):
    """With the old 28 days, 25 of SILK's 53 days of cover repeated the forecast's last week; the default run
    forecasts all 53."""
    settings.PO_REVIEW_PERIOD_DAYS = 7
    terms = _long_lead()
    location = terms.product.stock_levels.get().location
    _history([terms.product], days=240)  # up to Sunday 2011-12-04
    as_of = date(2011, 12, 5)

    _forecast(horizon=28)
    purchasing.replenishment_suggest(location=location, as_of=as_of)
    before = PurchaseOrderLine.objects.get(product=terms.product).explanation
    assert (before["cover_periods"], before["periods_past_horizon"]) == (53, 25)

    run = _forecast(horizon=None)
    purchasing.replenishment_suggest(location=location, as_of=as_of)

    assert run.horizon == 53 and Forecast.objects.filter(run=run, product=terms.product).count() == 53
    after = PurchaseOrderLine.objects.get(product=terms.product).explanation
    assert after["cover_periods"] == 53 and after["forecast_start"] == "2011-12-05"
    assert "periods_past_horizon" not in after
