"""Period-specific spreads and the calibration replay that makes the policy land on its fill-rate target."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from inventory.engine.calibrate import (
    Calibration,
    calibrate_policy,
    calibrate_targets,
    interpolate_planning_fill,
    replay_levels,
    stitch_levels,
)
from inventory.engine.policy import PolicyConfig, reshape_quantiles
from inventory.engine.replenish import (
    ReplenishmentConfig,
    cap_by_history,
    cover_window_sums,
    policy_from_forecast,
    series_settings,
)

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


def _targets(wide: float):
    rng = np.random.default_rng(3)
    series = [f"S{i}" for i in range(8)]
    actual, forecasts = _frames(rng, origins=6, step=4, series=series, wide=wide)
    actual = actual[actual["date"] < forecasts[-1]["date"].max()]
    config = ReplenishmentConfig(lead_time=2, service_level=0.95, policy=PolicyConfig(n_paths=400))
    return calibrate_targets(forecasts, actual, config, (0.9, 0.95, 0.98))


def test_too_wide_quantiles_plan_every_target_below_itself_and_reach_it():
    result = _targets(wide=4.0)

    assert sorted(result.planning_fills) == [0.9, 0.95, 0.98]
    assert result.uncalibrated_fills[0.95] > 0.98
    for target, planned in result.planning_fills.items():
        assert planned < target
        assert result.fills[target] == pytest.approx(target, abs=0.02)
    fills = [result.planning_fills[t] for t in (0.9, 0.95, 0.98)]
    assert fills == sorted(fills)  # a higher target never plans at a lower fill


def test_too_narrow_quantiles_plan_the_base_target_above_itself():
    result = _targets(wide=0.35)

    assert result.uncalibrated_fills[0.95] < 0.95
    assert result.planning_fills[0.95] > 0.95
    assert result.fills[0.95] == pytest.approx(0.95, abs=0.02)
    assert result.fills[0.9] == pytest.approx(0.9, abs=0.02)
    # 0.98 is out of reach of quantiles this narrow: planned near the ceiling, where the replay comes within half
    # a standard error of its best fill, and the replay says how far it got.
    assert 0.99 < result.planning_fills[0.98] < 0.999
    assert 0.95 < result.fills[0.98] < 0.98


def test_a_fill_margin_makes_the_target_hold_on_most_periods_to_come():
    # Correct quantiles: a planning fill that only just reaches 0.95 on the replayed periods meets it on about
    # half of the fresh period sets from the same process; one standard error above it meets it on most.
    series = [f"S{i}" for i in range(8)]
    config = ReplenishmentConfig(lead_time=2, service_level=0.95, policy=PolicyConfig(n_paths=400))
    settings = series_settings(np.array(series), config, None)
    fresh = [_frames(np.random.default_rng(100 + k), origins=6, step=4, series=series, wide=1.0) for k in range(8)]

    def share_meeting(planning_fill):
        cfg = replace(config, planning_fill=planning_fill)
        met = []
        for demand, forecasts in fresh:
            levels = stitch_levels([policy_from_forecast(f, cfg) for f in forecasts])
            r = replay_levels(levels, demand[demand["date"] < forecasts[-1]["date"].max()], settings)
            met.append(r["served"].sum() / r["demanded"].sum() >= 0.95)
        return np.mean(met)

    bare, margined = [], []
    for seed in range(10, 14):
        actual, forecasts = _frames(np.random.default_rng(seed), origins=6, step=4, series=series, wide=1.0)
        actual = actual[actual["date"] < forecasts[-1]["date"].max()]
        plain = calibrate_targets(forecasts, actual, config, (0.9, 0.95))
        aimed = calibrate_targets(forecasts, actual, config, (0.9, 0.95), margin=1.0)
        for target in (0.9, 0.95):
            assert aimed.planning_fills[target] > plain.planning_fills[target]
            assert aimed.fills[target] > plain.fills[target] >= target
        bare.append(share_meeting(plain.planning_fills[0.95]))
        margined.append(share_meeting(aimed.planning_fills[0.95]))
    assert np.mean(bare) < 0.6
    assert np.mean(margined) > 0.65
    assert np.mean(margined) > np.mean(bare) + 0.15


def _spiky(target: float):
    """Poisson(20) weeks with correct quantiles, and in the replayed periods four series each get one week of
    110 extra units (5.5 weeks of demand): the replayed fill flattens out near 0.92. Returns the forecasts, the
    demand, the config and a replay (fill, stock) of a planning fill."""
    series = [f"S{i}" for i in range(8)]
    actual, forecasts = _frames(np.random.default_rng(10), origins=6, step=4, series=series, wide=1.0)
    actual = actual[actual["date"] < forecasts[-1]["date"].max()].copy()
    dates = sorted(actual["date"].unique())
    for k, sid in enumerate(series[:4]):
        actual.loc[(actual["series_id"] == sid) & (actual["date"] == dates[8 + 4 * k]), "quantity"] += 110
    config = ReplenishmentConfig(lead_time=2, service_level=target, policy=PolicyConfig(n_paths=400))
    settings = series_settings(np.array(series), config, None)

    def replay(planning_fill):
        levels = stitch_levels(
            [policy_from_forecast(f, replace(config, planning_fill=planning_fill)) for f in forecasts]
        )
        r = replay_levels(levels, actual, settings)
        return r["served"].sum() / r["demanded"].sum(), r["avg_inv"].sum()

    return forecasts, actual, config, replay


def test_the_margin_stops_at_a_quarter_more_stock_where_spikes_flatten_the_fill():
    # Meeting 0.9 is in reach, but one standard error above it only at the top planning fill, where the replay
    # holds 1.66 times the stock of just meeting the target: the margin now stops at a quarter more.
    forecasts, actual, config, replay = _spiky(0.9)

    plain = calibrate_targets(forecasts, actual, config, (0.9,)).planning_fills[0.9]
    aimed = calibrate_targets(forecasts, actual, config, (0.9,), margin=1.0).planning_fills[0.9]
    (plain_fill, plain_stock), (aimed_fill, aimed_stock) = replay(plain), replay(aimed)

    assert plain_fill == pytest.approx(0.9, abs=0.002)
    assert plain < aimed < 0.99  # not the top of the planning fills
    assert aimed_fill > plain_fill + 0.005
    assert plain_stock * 1.15 < aimed_stock <= plain_stock * 1.25
    assert replay(0.999)[1] > plain_stock * 1.6  # where the margin alone would have gone


def test_a_target_out_of_reach_is_planned_where_the_fill_stops_rising():
    # 0.95 is out of reach (the top planning fill replays at 0.920): the target is planned where the replay
    # comes within half a standard error of that (0.908 at 0.976), not at the top, which holds 1.45 times the
    # stock for the last 0.012 of fill.
    forecasts, actual, config, replay = _spiky(0.95)
    best_fill, top_stock = replay(0.999)
    assert best_fill < 0.93

    result = calibrate_targets(forecasts, actual, config, (0.95,), margin=1.0)
    fill, stock = replay(result.planning_fills[0.95])

    assert result.planning_fills[0.95] < 0.99
    assert result.fills[0.95] == pytest.approx(fill)
    assert best_fill - 0.02 < fill < best_fill
    assert stock < top_stock / 1.4


def test_planning_fill_between_and_beyond_the_calibrated_targets():
    fills = {0.9: 0.8, 0.95: 0.9}
    assert interpolate_planning_fill(fills, 0.925) == pytest.approx(0.85)
    assert interpolate_planning_fill(fills, 0.98) == pytest.approx(0.93)  # shifted like the nearest target
    assert interpolate_planning_fill(fills, 0.7) == pytest.approx(0.6)
    assert interpolate_planning_fill(fills, 0.15) == 0.2  # never below the bisection's floor
    assert interpolate_planning_fill({}, 0.97) == 0.97


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


def test_history_envelope_caps_an_outrunning_promotion_forecast():
    days = pd.date_range("2024-01-07", periods=12, freq="W")
    # Series a peaked at 50 in the last 8 weeks (an older 500 falls outside the window); b has no history.
    history = pd.DataFrame({"series_id": "a", "date": days[:10], "quantity": [500, 500, 10, 12, 50, 11, 9, 10, 12, 10]})
    forecast = pd.DataFrame(
        {
            "series_id": ["a", "a", "b"],
            "date": [days[10], days[11], days[10]],
            "q10": [8.0, 80.0, 80.0],
            "q50": [10.0, 200.0, 200.0],
            "q90": [12.0, 400.0, 400.0],
        }
    )
    out = cap_by_history(forecast, history, window=8, headroom=0.25)
    # A quiet week is left alone; the 200 forecast is scaled onto the 50 peak (x 0.25), its top held at 62.5.
    assert out.loc[0, ["q10", "q50", "q90"]].tolist() == [8.0, 10.0, 12.0]
    assert out.loc[1, ["q10", "q50", "q90"]].tolist() == pytest.approx([20.0, 50.0, 62.5])
    assert out.loc[2, ["q10", "q50", "q90"]].tolist() == [80.0, 200.0, 400.0]


def test_envelope_caps_the_order_up_to_at_the_history_cover_demand():
    # Demand over every 3-week window of [1, 2, 3, 10, 1]: 6, 15, 14, sorted.
    assert cover_window_sums(np.array([1, 2, 3, 10, 1]), 3).tolist() == [6.0, 14.0, 15.0]
    days = pd.date_range("2024-01-07", periods=14, freq="W")
    history = pd.DataFrame({"series_id": "a", "date": days[:10], "quantity": [10.0] * 9 + [40.0]})
    # A forecast that swings to 100 a week: uncapped, the order-up-to covers three such weeks.
    rows = [("a", d, 80.0, 100.0, 120.0) for d in days[10:]]
    forecast = pd.DataFrame(rows, columns=["series_id", "date", "q10", "q50", "q90"])
    cfg = ReplenishmentConfig(lead_time=2)
    free = policy_from_forecast(forecast, cfg, None, history, 52)
    assert (free["order_up_to"] > 250).all()
    # Lead time 2 + review 1: 3-week windows of the history sum to 30 (seven times) and 60 (once); the 0.99
    # quantile interpolates to 57.9, the 0.5 quantile is 30.
    capped = policy_from_forecast(forecast, replace(cfg, envelope_level=0.99), None, history, 52)
    assert capped["order_up_to"].tolist() == [58.0] * 4
    assert (capped["reorder_point"] == 57).all()
    half = policy_from_forecast(forecast, replace(cfg, envelope_level=0.5), None, history, 52)
    assert (half["order_up_to"] == 30).all()


def test_history_spread_is_the_median_plus_the_demand_deviation():
    # z at 0.1 and 0.9 is -/+1.2816; the low quantile of the first period clips at zero.
    q = np.array([[0.0, 4.0, 900.0], [30.0, 40.0, 45.0]])
    out = reshape_quantiles(q, LEVELS, deviation=5.0)
    assert out[0].tolist() == pytest.approx([0.0, 4.0, 4.0 + 5.0 * 1.28155], abs=1e-3)
    assert out[1].tolist() == pytest.approx([40.0 - 5.0 * 1.28155, 40.0, 40.0 + 5.0 * 1.28155], abs=1e-3)


def test_history_spread_takes_each_series_own_deviation():
    days = pd.date_range("2024-01-07", periods=24, freq="W")
    # Series a: 20 weeks alternating 90 and 110 (deviation 10.26); b: only 3 weeks, too few to measure.
    history = pd.concat(
        [
            pd.DataFrame({"series_id": "a", "date": days[:20], "quantity": [90.0, 110.0] * 10}),
            pd.DataFrame({"series_id": "b", "date": days[17:20], "quantity": [100.0] * 3}),
        ]
    )
    # Both forecasts have the right median and absurdly wide bands.
    rows = [(s, d, 0.0, 100.0, 1000.0) for s in ("a", "b") for d in days[20:]]
    forecast = pd.DataFrame(rows, columns=["series_id", "date", "q10", "q50", "q90"])
    cfg = ReplenishmentConfig(lead_time=2, policy=PolicyConfig(history_spread=True, error_correlation=0.0))
    levels = policy_from_forecast(forecast, cfg, None, history, 52).set_index("series_id")["order_up_to"]
    # Three weeks of 100 with a deviation of 10 a week: the level sits a little above 300, not near 3 x 1000.
    assert ((levels["a"] > 300) & (levels["a"] < 360)).all()
    assert (levels["b"] > 1000).all()  # the forecaster's own bands for a series with too little history
    plain = policy_from_forecast(forecast, replace(cfg, policy=PolicyConfig()), None, history, 52)
    assert (plain.set_index("series_id")["order_up_to"]["a"] > 1000).all()


def test_history_spread_needs_far_less_stock_than_misshapen_forecast_bands():
    rng = np.random.default_rng(5)
    series = [f"S{i}" for i in range(8)]
    dates = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    demand = np.clip(np.round(rng.normal(100, 15, (len(series), len(dates)))), 0, None)
    actual = pd.DataFrame(
        [(s, d, demand[i, j]) for i, s in enumerate(series) for j, d in enumerate(dates)],
        columns=["series_id", "date", "quantity"],
    )
    # The median is right; the bands swing from +-2 in even weeks to +-300 in odd ones, while demand is steady.
    forecasts = []
    for o in range(40, 56, 4):
        rows = [
            (s, d, 100 - w, 100.0, 100 + w)
            for s in series
            for j, d in zip(range(o, o + 7), dates[o : o + 7], strict=True)
            for w in [2.0 if j % 2 == 0 else 300.0]
        ]
        forecasts.append(pd.DataFrame(rows, columns=["series_id", "date", "q10", "q50", "q90"]))
    window = actual[(actual["date"] >= dates[40]) & (actual["date"] < dates[56])]
    config = ReplenishmentConfig(lead_time=2, service_level=0.95, policy=PolicyConfig(n_paths=400))
    cal = calibrate_policy(forecasts, window, config, history=actual, envelope_levels=(None,))

    tried = cal.tried.set_index(["spread", "error_correlation"])
    history = tried.loc["history"]
    own = tried.loc[["forecast", "level"]]
    assert (history["fill"] >= 0.95).all()
    # Steady demand of deviation 15: the demand's own spread keeps well under half the stock of the swinging bands.
    assert history["inventory"].min() < 0.6 * own["inventory"].min()
    assert cal.average_inventory <= history["inventory"].min()
    # Without a history the shape is not offered.
    assert "history" not in set(calibrate_policy(forecasts, window, config).tried["spread"])


def test_a_history_spread_calibration_applies_to_the_config():
    cal = Calibration(
        spread="history",
        spread_power=0.0,
        measured=None,
        error_correlation=0.3,
        planning_fill=0.9,
        envelope_level=None,
        fill_rate=0.95,
        average_inventory=1.0,
        tried=pd.DataFrame(),
    )
    applied = cal.apply(ReplenishmentConfig())
    assert applied.policy.history_spread and applied.policy.error_correlation == 0.3
    assert applied.planning_fill == 0.9
