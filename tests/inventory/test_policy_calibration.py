"""Period-specific spreads and the calibration replay that makes the policy land on its fill-rate target."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from inventory.engine.calibrate import calibrate_policy, replay_levels, stitch_levels
from inventory.engine.policy import PolicyConfig, reshape_quantiles
from inventory.engine.replenish import ReplenishmentConfig, policy_from_forecast, series_settings

LEVELS = np.array([0.1, 0.5, 0.9])


def test_forecast_spread_is_kept_unless_asked():
    q = np.array([[5.0, 10.0, 15.0], [35.0, 40.0, 45.0]])
    assert reshape_quantiles(q, LEVELS).tolist() == q.tolist()


def test_spread_follows_the_level_with_power_one():
    # Medians 10 and 40 (mean 25, floor 0.25 * 25 + 0.5 = 6.75): weights 16.75/31.75 and 46.75/31.75.
    q = np.array([[5.0, 10.0, 15.0], [35.0, 40.0, 45.0]])
    out = reshape_quantiles(q, LEVELS, spread_power=1.0)
    assert out[0].tolist() == pytest.approx([10 - 5 * 16.75 / 31.75, 10, 10 + 5 * 16.75 / 31.75])
    assert out[1].tolist() == pytest.approx([40 - 5 * 46.75 / 31.75, 40, 40 + 5 * 46.75 / 31.75])


def test_measured_relative_errors_replace_the_spread():
    q = np.array([[0.0, 10.0, 50.0], [0.0, 30.0, 90.0]])
    errors = ((0.1, -0.5), (0.5, 0.0), (0.9, 0.5))
    out = reshape_quantiles(q, LEVELS, relative_errors=errors)
    floor = 0.25 * 20 + 0.5
    assert out[0].tolist() == pytest.approx([10 - 0.5 * (10 + floor), 10, 10 + 0.5 * (10 + floor)])
    assert out[1].tolist() == pytest.approx([30 - 0.5 * (30 + floor), 30, 30 + 0.5 * (30 + floor)])


def test_stitch_keeps_the_latest_origin():
    d = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15"])
    old = pd.DataFrame({"series_id": "A", "date": d, "reorder_point": [1, 2, 3], "order_up_to": [2, 3, 4]})
    new = pd.DataFrame({"series_id": "A", "date": d[1:], "reorder_point": [7, 8], "order_up_to": [9, 9]})
    out = stitch_levels([old, new])
    assert out["reorder_point"].tolist() == [1, 7, 8]


def _frames(rng, origins, step, series, wide):
    """Steady Poisson(20) demand, and forecasts whose 10-90 range is `wide` times too broad."""
    dates = pd.date_range("2024-01-01", periods=origins * step + 3, freq="W-MON")
    actual = pd.DataFrame(
        [(s, d, float(rng.poisson(20))) for s in series for d in dates], columns=["series_id", "date", "quantity"]
    )
    true = {0.1: 14.0, 0.5: 20.0, 0.9: 26.0}
    forecasts = []
    for o in range(origins):
        span = dates[o * step : o * step + step + 3]
        rows = [(s, d, *(20 + wide * (true[k] - 20) for k in (0.1, 0.5, 0.9))) for s in series for d in span]
        forecasts.append(pd.DataFrame(rows, columns=["series_id", "date", "q10", "q50", "q90"]))
    return actual, forecasts


def test_calibration_lands_near_the_target_when_the_quantiles_are_too_wide():
    rng = np.random.default_rng(0)
    series = [f"S{i}" for i in range(6)]
    actual, forecasts = _frames(rng, origins=6, step=4, series=series, wide=4.0)
    config = ReplenishmentConfig(lead_time=2, service_level=0.95, policy=PolicyConfig(n_paths=400))
    cal = calibrate_policy(forecasts, actual[actual["date"] < forecasts[-1]["date"].max()], config)
    assert cal.planning_fill < 0.95  # wide quantiles: plan for less than the target
    assert cal.fill_rate == pytest.approx(0.95, abs=0.02)

    # Fresh periods from the same process: the calibrated policy lands near the target, the raw one far above.
    fresh, fresh_forecasts = _frames(np.random.default_rng(1), origins=6, step=4, series=series, wide=4.0)
    settings = series_settings(np.array(series), config, None)

    def fill_and_stock(cfg):
        levels = stitch_levels([policy_from_forecast(f, cfg) for f in fresh_forecasts])
        r = replay_levels(levels, fresh[fresh["date"] < fresh_forecasts[-1]["date"].max()], settings)
        return r["served"].sum() / r["demanded"].sum(), r["avg_inv"].sum()

    raw_fill, raw_stock = fill_and_stock(config)
    cal_fill, cal_stock = fill_and_stock(cal.apply(config))
    assert raw_fill > 0.98
    assert cal_fill == pytest.approx(0.95, abs=0.03)
    assert cal_stock < 0.8 * raw_stock


def test_calibration_applies_its_choice_to_the_config():
    rng = np.random.default_rng(2)
    actual, forecasts = _frames(rng, origins=3, step=4, series=["A", "B"], wide=1.0)
    config = ReplenishmentConfig(lead_time=1, policy=PolicyConfig(n_paths=300))
    cal = calibrate_policy(forecasts, actual, config, error_correlations=(0.0,))
    applied = cal.apply(config)
    assert applied.planning_fill == cal.planning_fill
    assert applied.policy.error_correlation == 0.0
    assert set(cal.tried["spread"]) == {"forecast", "level", "measured"}
    assert replace(applied, planning_fill=None).service_level == 0.95
