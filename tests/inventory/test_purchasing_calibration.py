"""Suggestions plan at the fill that a replay of the forecast run's last backtest window shows reaches the target."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.test import Client

from forecasting.models import SeriesBacktest
from inventory.calibration import replay_sample
from inventory.models import PolicyCalibration, PurchaseOrder, PurchaseOrderLine
from tests import factories
from tests.inventory.conftest import AS_OF, active_forecast

pytestmark = pytest.mark.django_db

MEAN, WIDTH = 40.0, 24.0  # Poisson(40) demand has a 10–90 range of about ±8: these bands are three times too wide


def _with_extra_products(assortment, n: int) -> list:
    """The assortment's products plus `n` more, each with terms and stock at the warehouse."""
    products = list(assortment["products"].values())
    for i in range(n):
        p = factories.ProductFactory(sku=f"EXTRA{i}")
        factories.SupplierProductFactory(supplier=assortment["other"], product=p, lead_time_days=3)
        factories.StockLevelFactory(product=p, location=assortment["location"], on_hand=0)
        products.append(p)
    return products


def _window(rng, start, days: int = 28) -> dict:
    """One backtest origin's window: `days` of Poisson(MEAN) demand under the wide band."""
    return {
        "dates": [(start + timedelta(days=t)).isoformat() for t in range(days)],
        "actual": [float(x) for x in rng.poisson(MEAN, days)],
        "q10": [MEAN - WIDTH] * days,
        "q50": [MEAN] * days,
        "q90": [MEAN + WIDTH] * days,
    }


def _backtests(run, products, *, origins: int = 3, seed: int = 0) -> None:
    """The chosen model's backtest windows per product, back to back up to the day before AS_OF; a run from
    before windows were kept has only the last one (``origins=0``)."""
    rng = np.random.default_rng(seed)
    for p in products:
        windows = [_window(rng, AS_OF - timedelta(days=28 * (k + 1))) for k in reversed(range(max(origins, 1)))]
        SeriesBacktest.objects.create(
            run=run, product=p, model="gbm", chosen=True, last_origin=windows[-1], origins=windows if origins else []
        )


def _tea():
    return PurchaseOrderLine.objects.get(product__sku="TEA", purchase_order__status="draft")


def test_too_wide_bands_are_planned_below_the_target_and_the_replay_lands_on_it(
    assortment, suggest, settings, personas
):
    products = _with_extra_products(assortment, 2)
    run = active_forecast({p: (MEAN - WIDTH, MEAN, MEAN + WIDTH) for p in products})
    _backtests(run, products)
    settings.PO_CALIBRATION = False
    suggest()
    raw = _tea().explanation
    assert raw["planning_fill"] == raw["service_level"] and raw["calibration"] is None

    settings.PO_CALIBRATION = True
    suggest()

    cal = PolicyCalibration.objects.get()
    assert (cal.run, cal.location, cal.status) == (run, assortment["location"], "calibrated")
    assert (cal.series, cal.periods, cal.base_target) == (6, 84, 0.95)  # three windows of 28 days
    assert cal.uncalibrated_fill > 0.97  # bands this wide overshoot the target when read as they stand
    assert cal.replay_fills["0.95"] == pytest.approx(0.95, abs=0.02)
    assert cal.planning_fills["0.95"] < 0.93
    e = _tea().explanation
    assert e["calibration"] == cal.pk
    assert e["planning_fill"] < e["service_level"]
    assert e["order_up_to"] < raw["order_up_to"]

    # The calibration belongs to the run: a second batch reuses it.
    suggest()
    assert PolicyCalibration.objects.count() == 1
    assert _tea().explanation["order_up_to"] == e["order_up_to"]

    client = Client()
    client.force_login(personas["buyer"])
    po = PurchaseOrder.objects.get(supplier=assortment["own"], status="draft")
    page = client.get(f"/purchase-orders/{po.pk}/").content.decode()
    assert f"Planned at fill {e['planning_fill']:.3f} to reach {e['service_level']}" in page
    what_if = client.get(f"/purchase-orders/what-if/TEA/?location={assortment['location'].pk}").content.decode()
    assert "Planned at fill" in what_if
    inbox = client.get("/purchase-orders/").content.decode()
    assert "How tonight's suggestions read the forecast" in inbox
    assert f"0.95 → {cal.planning_fills['0.95']:.3f}" in inbox and f"{cal.uncalibrated_fill:.3f}" in inbox


def test_a_run_with_only_the_last_window_calibrates_on_it(assortment, suggest):
    products = _with_extra_products(assortment, 1)
    run = active_forecast({p: (MEAN - WIDTH, MEAN, MEAN + WIDTH) for p in products})
    _backtests(run, products, origins=0)

    suggest()

    cal = PolicyCalibration.objects.get()
    assert (cal.status, cal.series, cal.periods) == ("calibrated", 5, 28)
    assert cal.planning_fills["0.95"] < 0.95


def test_too_few_backtested_products_leave_the_target_as_it_is(assortment, suggest):
    products = list(assortment["products"].values())
    run = active_forecast({p: (MEAN - WIDTH, MEAN, MEAN + WIDTH) for p in products})
    _backtests(run, products[:3])

    suggest()

    cal = PolicyCalibration.objects.get()
    assert cal.status == "skipped"
    assert cal.reason == "3 products have a backtest window; at least 5 are needed."
    e = _tea().explanation
    assert e["planning_fill"] == e["service_level"]
    assert e["calibration"] == cal.pk


def test_the_replay_sample_is_the_same_every_night_and_moves_by_one_product_when_one_is_added():
    ids = list(range(1, 1001))
    sample = replay_sample(ids, 100)
    assert sample == replay_sample(list(reversed(ids)), 100) and len(sample) == 100 == len(set(sample))
    assert sample == sorted(sample) and set(sample) <= set(ids)
    # Spread over the catalogue like a random sample, not the first or the newest products.
    assert sample != ids[:100] and sample != ids[-100:] and 350 < float(np.median(sample)) < 650
    assert len(set(replay_sample([*ids, 1001], 100)) ^ set(sample)) <= 2
    assert replay_sample(ids[:50], 100) == ids[:50]


def test_two_runs_with_the_same_backtests_calibrate_alike_when_the_catalogue_is_sampled(assortment, suggest, settings):
    products = _with_extra_products(assortment, 6)
    settings.PO_CALIBRATION_MAX_SERIES = 5
    fills = []
    for _ in range(2):
        run = active_forecast({p: (MEAN - WIDTH, MEAN, MEAN + WIDTH) for p in products})
        _backtests(run, products, seed=7)
        suggest()
        cal = PolicyCalibration.objects.get(run=run)
        assert (cal.status, cal.series) == ("calibrated", 5)
        fills.append((cal.uncalibrated_fill, cal.planning_fills, cal.replay_fills))
    assert fills[0] == fills[1]
