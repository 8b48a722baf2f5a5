"""Known-answer tests of the forecasting engine: seasonality, promotions, intermittency, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import ForecastConfig, forecast
from forecasting.engine.backtest import origin_frames, run_backtest, score_backtest
from forecasting.engine.cold_start import cold_start_quantiles
from forecasting.engine.explain import sales_stopped
from forecasting.engine.features import time_index_features
from forecasting.engine.models import GBMConfig, GlobalGBM
from forecasting.engine.panel import build_panel
from forecasting.engine.pipeline import model_factories
from forecasting.engine.series import demand_from_lines
from tests.forecasting.conftest import WEEKLY_PATTERN, daily_history


def test_demand_from_lines_nets_cancellations_and_skips_adjustments_and_non_merchandise():
    lines = pd.DataFrame(
        {
            "product": ["A", "A", "A", "A", "A", "FEE"],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-03", "2024-01-10", "2024-01-01"]
            ),
            "kind": ["sale", "cancellation", "adjustment", "sale", "return", "sale"],
            "quantity": [5, 2, 100, 4, 1, 9],
            "is_merchandise": [True, True, True, True, True, False],
        }
    )
    daily = demand_from_lines(lines, freq="D", end="2024-01-10", location_col=None)
    assert list(daily["series_id"].unique()) == ["A"]
    assert len(daily) == 10  # zero-filled from the first sale to the end date
    q = daily.set_index("date")["quantity"]
    assert q["2024-01-01"] == 3 and q["2024-01-03"] == 4 and q["2024-01-02"] == 0
    assert q["2024-01-10"] == 0  # a lone return never makes demand negative
    weekly = demand_from_lines(lines, freq="W", end="2024-01-10", location_col=None)
    assert list(weekly["date"]) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
    assert list(weekly["quantity"]) == [7.0, 0.0]


def test_weekly_pattern_is_forecast_with_its_shape(fast_config):
    history = daily_history()
    result = forecast(history, None, fast_config(horizon=14))
    fc = result.forecast
    assert len(fc) == 4 * 14 and list(fc.columns) == ["series_id", "date", "q10", "q50", "q90", "model"]
    for _, g in fc.groupby("series_id"):
        by_dow = g.groupby(g["date"].dt.day_of_week)["q50"].mean().reindex(range(7)).to_numpy()
        assert np.argmax(by_dow) == np.argmax(WEEKLY_PATTERN)
        assert np.argmin(by_dow) == np.argmin(WEEKLY_PATTERN)
        assert np.corrcoef(by_dow, WEEKLY_PATTERN)[0, 1] > 0.9


def test_a_yearly_peak_outside_the_backtest_origins_is_still_forecast():
    # Two and a half years of weekly demand; "XMAS" quadruples in weeks 46-51, the others are flat. Seen from
    # early October every backtest origin is off-season, where a flat model wins; the peak must still come.
    rng = np.random.default_rng(1)
    dates = pd.date_range("2021-01-04", "2023-10-02", freq="W-MON")
    peak = np.isin(dates.isocalendar().week.to_numpy(), range(46, 52))
    history = pd.concat(
        [
            pd.DataFrame(
                {"series_id": sid, "date": dates, "quantity": rng.poisson(base * np.where(seasonal & peak, 4, 1))}
            )
            for sid, base, seasonal in (("A", 20.0, False), ("B", 6.0, False), ("XMAS", 15.0, True))
        ],
        ignore_index=True,
    )
    fc = forecast(history, None, ForecastConfig(horizon=10, freq="W")).forecast
    xmas = fc[fc["series_id"] == "XMAS"].set_index("date")["q50"]
    assert xmas["2023-11-20":"2023-12-11"].mean() > 2.5 * xmas[:"2023-10-30"].mean()
    flat = fc[fc["series_id"] == "A"].set_index("date")["q50"]
    assert flat["2023-11-20":"2023-12-11"].mean() < 1.3 * flat[:"2023-10-30"].mean()


def test_promotion_with_strong_lift_raises_the_forecast_on_promo_days(fast_config):
    rng = np.random.default_rng(1)
    history = daily_history(n_series=6, days=300, seed=1)
    history["promo"] = (rng.random(len(history)) < 0.2).astype(float)
    history["quantity"] = np.where(history["promo"] == 1, history["quantity"] * 2.5, history["quantity"]).round()
    last = history["date"].max()
    fut_dates = pd.date_range(last + pd.Timedelta(days=1), periods=14, freq="D")
    future = pd.DataFrame(
        [(s, d, float(i % 3 == 0)) for s in history["series_id"].unique() for i, d in enumerate(fut_dates)],
        columns=["series_id", "date", "promo"],
    )
    fc = forecast(history, future, fast_config(horizon=14)).forecast.merge(future, on=["series_id", "date"])
    # Compare within weekdays so that the weekly pattern does not blur the promotion effect.
    fc["dow"] = fc["date"].dt.day_of_week
    ratio = fc.groupby(["series_id", "dow", "promo"])["q50"].mean().unstack("promo").dropna()
    assert (ratio[1.0] / ratio[0.0]).median() > 1.6


def test_intermittent_series_get_sensible_quantiles(fast_config):
    rng = np.random.default_rng(2)
    dates = pd.date_range("2023-01-01", periods=200, freq="D")
    rows = []
    for s in range(5):
        q = np.where(rng.random(200) < 0.12, rng.integers(1, 4, 200), 0).astype(float)
        q[0] = 1.0
        rows.append(pd.DataFrame({"series_id": f"I{s}", "date": dates, "quantity": q}))
    result = forecast(pd.concat(rows), None, fast_config(horizon=14, quantiles=(0.1, 0.5, 0.9, 0.95)))
    fc = result.forecast
    qs = fc[["q10", "q50", "q90", "q95"]].to_numpy()
    assert (qs >= 0).all() and (np.diff(qs, axis=1) >= 0).all()
    assert fc["q50"].max() <= 0.5
    # An upper quantile is positive exactly when the series sold on more than that share of recent days.
    hist = pd.concat(rows).groupby("series_id")["quantity"].apply(lambda q: (q.tail(112) > 0).mean())
    top = fc.groupby("series_id")[["q90", "q95"]].max()
    assert (top["q95"] > 0).all()
    assert ((top["q90"] > 0) == (hist > 0.1)).all()


def test_backtest_and_choice_never_see_the_held_out_periods(fast_config):
    history = daily_history(n_series=3, days=200, seed=3)
    config = fast_config(horizon=14, holdout=True)
    cut = history.groupby("series_id")["date"].transform("max") - pd.Timedelta(days=14)
    corrupted = history.copy()
    corrupted.loc[corrupted["date"] > cut, "quantity"] = 10_000.0
    a, b = forecast(history, None, config), forecast(corrupted, None, config)
    pd.testing.assert_series_equal(a.chosen, b.chosen)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    assert a.ensemble_weights and a.ensemble_weights == b.ensemble_weights
    assert not a.holdout.equals(b.holdout)  # only the score on the held-out periods changes


def test_each_backtest_origin_only_uses_history_before_its_cut(fast_config):
    history = daily_history(n_series=3, days=200, seed=4)
    config = fast_config(horizon=14)
    panel = build_panel(history, None, 14)
    factories = model_factories(config, panel)
    first = run_backtest(panel, factories, 3)
    cut = first.cuts[0]
    panel.y[:, cut:] = 10_000.0
    second = run_backtest(panel, factories, 3)
    assert second.cuts == first.cuts
    for name in factories:
        np.testing.assert_array_equal(first.points[name][0], second.points[name][0])


def test_new_series_borrows_from_similar_series_and_is_flagged(fast_config):
    history = daily_history(n_series=4, days=200, seed=5)
    new = history[history["series_id"] == "S03"].tail(5).assign(series_id="NEW")
    attributes = pd.DataFrame({"series_id": ["S00", "S01", "S02", "S03", "NEW"], "category": ["a", "a", "b", "b", "b"]})
    result = forecast(pd.concat([history, new]), None, fast_config(horizon=14), attributes=attributes)
    expl = result.explanations.set_index("series_id")
    assert bool(expl.loc["NEW", "cold_start"]) and result.chosen["NEW"] == "cold_start"
    fc = result.forecast[result.forecast["series_id"] == "NEW"]
    assert (fc["q50"] > 0).all() and set(fc["model"]) == {"cold_start"}
    by_dow = fc.groupby(fc["date"].dt.day_of_week)["q50"].mean().reindex(range(7)).to_numpy()
    assert np.argmax(by_dow) == np.argmax(WEEKLY_PATTERN)


def _cold_start_case(peer_bands: list[float]):
    """A new series selling 100 a day for 5 days and established peers selling 10 a day whose P90 bands are
    `peer_bands` times their level, plus one slow seller: level 0.107, P90 70 (650 times its level)."""
    h = 3
    n_peers = len(peer_bands)
    y = np.full((n_peers + 2, 60), 10.0)
    y[n_peers, -28:] = [0.0] * 25 + [1.0] * 3  # the slow seller: 3 units in the last 28 days
    y[-1, :-5] = np.nan
    y[-1, -5:] = 100.0  # the new series
    level = np.array([10.0] * n_peers + [3 / 28, 100.0])  # each series' mean over the last 28 days
    cube = np.zeros((n_peers + 2, h, 3))
    for i, band in enumerate(peer_bands):
        cube[i] = [8.0, 10.0, 10.0 * band]
    cube[n_peers] = [0.0, 0.0, 70.0]
    cube[-1] = [60.0, 100.0, 150.0]  # the new series' own short-history forecast
    cold = np.array([False] * (n_peers + 1) + [True])
    ids = np.array([f"P{i}" for i in range(n_peers)] + ["SLOW", "NEW"])
    return cold_start_quantiles(y, cold, cube, level, ids)


def test_a_new_series_never_borrows_the_band_of_one_slow_seller():
    # Its only established peer sells 0.107 a day with a P90 of 70: borrowing would give it a P90 of 65,000.
    out, groups = _cold_start_case([])
    assert groups[-1] == ""  # too few peers: no borrowed profile
    np.testing.assert_allclose(out[-1], [[60.0, 100.0, 150.0]] * 3)


def test_a_new_series_borrows_the_median_profile_of_enough_peers():
    out, groups = _cold_start_case([1.2, 1.5, 1.8])
    assert groups[-1] == "all"
    # Profiles (P90 / level) 1.2, 1.5, 1.8 and the slow seller's 653; the new series sells daily, as the three
    # do, and the slow seller on 3 days in 28: the median of the three is 1.5.
    np.testing.assert_allclose(out[-1, :, 2], [100.0 * 1.5] * 3)
    np.testing.assert_allclose(out[-1, :, 1], [100.0] * 3)


def test_a_new_product_selling_daily_borrows_from_peers_that_sell_as_often_at_its_recent_level():
    # 15 lumpy peers sell 20 every fourth day (median day 0) and 5 steady peers sell 5 every day: both average 5
    # a day over the last 28 days. The new product sold 10 a day for 12 days, then 25 a day (5 times their level)
    # over the last 28: it sells as often as the steady peers, and its level is measured as theirs is.
    n_lumpy, n_steady, t = 15, 5, 60
    y = np.zeros((n_lumpy + n_steady + 1, t))
    y[:n_lumpy, ::4] = 20.0
    y[n_lumpy:-1] = 5.0
    y[-1, :-40] = np.nan
    y[-1, -40:-28] = 10.0
    y[-1, -28:] = 25.0
    window = y[:, -28:]
    level = np.nanmean(window, axis=1)
    cube = np.zeros((len(y), 2, 3))
    cube[:n_lumpy] = [0.0, 0.0, 20.0]
    cube[n_lumpy:-1] = [4.0, 5.0, 6.0]
    cube[-1] = [5.0, 12.0, 30.0]  # its own short-history forecast
    cold = np.array([False] * (n_lumpy + n_steady) + [True])
    ids = np.array([f"L{i}" for i in range(n_lumpy)] + [f"S{i}" for i in range(n_steady)] + ["NEW"])
    out, groups = cold_start_quantiles(window, cold, cube, level, ids)
    assert groups[-1] == "all"
    np.testing.assert_allclose(out[-1], [[20.0, 25.0, 30.0]] * 2)  # the steady peers' profile times 25


def test_a_new_product_that_sold_once_before_the_window_is_not_forecast_at_its_peers_level():
    # 10 peers sell 20 a day. The new product has 40 days of history: one unit on its first day, nothing since,
    # so nothing in the 28-day window. It has shown what it sells (1 unit in 40 days); the peers' level would
    # have it forecast at 20 a day (a buyer was asked to order 4,289 hot water bottles on such a forecast).
    n_peers, t = 10, 60
    y = np.full((n_peers + 1, t), 20.0)
    y[-1, :-40] = np.nan
    y[-1, -40:] = 0.0
    y[-1, -40] = 1.0
    window = y[:, -28:]
    level = np.nan_to_num(np.nanmean(window, axis=1))
    since_start = np.nanmean(y, axis=1)
    cube = np.zeros((len(y), 2, 3))
    cube[:-1] = [15.0, 20.0, 26.0]
    cold = np.array([False] * n_peers + [True])
    ids = np.array([f"P{i}" for i in range(n_peers)] + ["NEW"])

    out, groups = cold_start_quantiles(window, cold, cube, level, ids, since_start=since_start)
    assert level[-1] == 0 and groups[-1] == "all"
    np.testing.assert_allclose(out[-1], [[15 / 40 / 20, 1 / 40, 26 / 40 / 20]] * 2)  # the peers' profile x 1/40

    # Without its history it is a product that never sold: the peers' median level it is.
    out, _ = cold_start_quantiles(window, cold, cube, level, ids)
    np.testing.assert_allclose(out[-1], [[15.0, 20.0, 26.0]] * 2)


def test_the_pipeline_forecasts_a_product_that_sold_once_weeks_ago_near_zero(fast_config):
    history = daily_history(n_series=4, days=200, seed=5)
    end = pd.to_datetime(history["date"]).max()
    days = pd.date_range(end - pd.Timedelta(days=39), end, freq="D")
    once = pd.DataFrame({"series_id": "ONCE", "date": days, "quantity": [1.0] + [0.0] * 39})
    result = forecast(pd.concat([history, once]), None, fast_config(horizon=14))
    peers = result.forecast[result.forecast["series_id"] != "ONCE"].groupby("series_id")["q50"].mean()
    fc = result.forecast[result.forecast["series_id"] == "ONCE"]
    assert peers.min() > 5 and fc["q50"].mean() <= 1 / 40 * 2 and fc["q90"].max() < 1, (peers, fc)


def test_explanations_name_model_score_and_drivers(fast_config):
    history = daily_history(n_series=2, days=200, seed=6)
    expl = forecast(history, None, fast_config(horizon=7)).explanations
    assert {"model", "backtest_wape", "baseline_level", "seasonality", "top_driver"} <= set(expl.columns)
    assert (expl["top_driver"] == "seasonality").all()


def test_rossmann_slice_beats_seasonal_naive(shared_data, fast_config):
    from bench import _data

    history = _data.rossmann(stores=8, data=shared_data)
    history = history[history["date"] >= "2014-09-01"]
    config = fast_config(horizon=28, country="DE", holdout=True)
    result = forecast(history, None, config)
    agg = result.holdout.groupby("model")[["abs_error_total", "actual_total"]].sum()
    wape = agg["abs_error_total"] / agg["actual_total"]
    assert wape["chosen"] < 0.8 * wape["seasonal_naive"]


def test_config_rejects_horizon_below_one():
    with pytest.raises(ValueError):
        forecast(daily_history(n_series=1, days=30), None, ForecastConfig(horizon=0))


def test_tiny_lstm_is_a_candidate_with_coherent_quantiles(fast_config):
    from forecasting.engine.models import LSTMConfig

    config = fast_config(
        horizon=7,
        models=("seasonal_naive", "moving_average"),
        neural=True,
        lstm=LSTMConfig(window=14, units=4, epochs=1, max_windows=600, batch_size=128),
    )
    result = forecast(daily_history(n_series=2, days=90, seed=8), None, config)
    assert "lstm" in set(result.metrics["model"])
    q = result.forecast[["q10", "q50", "q90"]].to_numpy()
    assert (q >= 0).all() and (q[:, 1:] >= q[:, :-1]).all()


def test_tiny_lstm_learns_a_weekly_pattern():
    from forecasting.engine.models import LSTMConfig
    from forecasting.engine.neural import GlobalLSTM

    history = daily_history(n_series=4, days=240, seed=9)
    panel = build_panel(history, None, 14)
    t = panel.n_hist
    config = LSTMConfig(window=14, units=8, epochs=10, max_windows=1500, batch_size=64)
    model = GlobalLSTM(freq="D", spec=panel.spec, config=config, horizon=14).fit(panel.y, panel.x[:, :t])
    point = model.point(14, panel.x[:, t:])
    dow = panel.x[0, t:, panel.spec.index("dow")]
    levels = np.nanmean(panel.y[:, -28:], axis=1)
    for i in range(len(point)):
        profile = np.array([point[i][dow == d].mean() for d in range(7)])
        assert np.argmax(profile) == np.argmax(WEEKLY_PATTERN)
        assert np.corrcoef(profile, WEEKLY_PATTERN)[0, 1] > 0.9
        assert 0.8 < profile.mean() / levels[i] < 1.25  # the right level, not just the right shape


def test_backtest_overlay_shows_the_median_the_backtest_scored():
    # Occasional bulk orders make seasonal naive keep only half of its median residual (centre 0.5 here).
    rng = np.random.default_rng(4)
    history = daily_history(n_series=4, days=200, seed=4)
    history["quantity"] = np.where(rng.random(len(history)) < 0.1, history["quantity"] * 6, history["quantity"]).round()
    panel = build_panel(history, None, 14)
    config = ForecastConfig(horizon=14, models=("seasonal_naive", "moving_average"))
    bt = run_backtest(panel, model_factories(config, panel))
    score_backtest(bt, panel.ids)
    assert bt.centre["seasonal_naive"] != 1.0
    chosen = pd.Series("seasonal_naive", index=panel.ids)
    every = origin_frames(bt, panel.dates, panel.ids, chosen)
    frame = every[every["origin"] == len(bt.cuts) - 1]
    scored = bt.medians["seasonal_naive"][-1]  # (series, horizon) at the last origin
    assert np.allclose(frame["q50"].to_numpy(), scored.ravel())
    assert sorted(every["origin"].unique()) == list(range(len(bt.cuts)))
    for k in range(len(bt.cuts)):
        assert np.allclose(every.loc[every["origin"] == k, "q50"].to_numpy(), bt.medians["seasonal_naive"][k].ravel())


def test_event_periods_are_occasional_promotions_and_price_cuts_not_everyday_flags():
    dates = pd.date_range("2024-01-01", periods=60, freq="D")
    promo = (np.arange(60) % 5 == 0).astype(float)  # on one day in five
    price = np.where(np.arange(60) % 7 == 3, 8.5, np.where(np.arange(60) % 7 == 4, 9.7, 10.0))  # 15% and 3% off
    history = pd.DataFrame(
        {"series_id": "A", "date": dates, "quantity": 10.0, "open": 1.0, "promo": promo, "price": price}
    )
    history.loc[history.index % 20 == 19, "open"] = 0.0
    panel = build_panel(history, history.iloc[:0][["series_id", "date", "open", "promo", "price"]], 0)
    events = panel.events[0]
    assert events[promo == 1].all()
    assert events[np.arange(60) % 7 == 3].all()  # a temporary price reduction of 15%
    quiet = (promo == 0) & (np.arange(60) % 7 != 3)
    assert not events[quiet].any()  # the store being open and a 3% price wobble are no events


def test_promotion_days_get_their_own_band_and_ordinary_days_a_narrower_one(fast_config):
    # Ordinary days sell a steady Poisson; on promotion days the lift varies widely (1x to 5x).
    rng = np.random.default_rng(7)
    history = daily_history(n_series=6, days=300, seed=7)
    history["promo"] = (rng.random(len(history)) < 0.25).astype(float)
    lift = np.where(history["promo"] == 1, rng.uniform(1.0, 5.0, len(history)), 1.0)
    history["quantity"] = (history["quantity"] * lift).round()
    last = history["date"].max()
    fut_dates = pd.date_range(last + pd.Timedelta(days=1), periods=14, freq="D")
    future = pd.DataFrame(
        [(s, d, float(i % 2 == 0)) for s in history["series_id"].unique() for i, d in enumerate(fut_dates)],
        columns=["series_id", "date", "promo"],
    )
    config = fast_config(horizon=14)
    fc = forecast(history, future, config).forecast.merge(future, on=["series_id", "date"])
    width = (fc["q90"] - fc["q10"]).groupby([fc["series_id"], fc["promo"]]).mean().unstack("promo")
    assert (width[1.0] / width[0.0]).min() > 2.0
    # Without the promotion calendar every day carries the promotion days' uncertainty.
    blind = forecast(history.drop(columns="promo"), None, config).forecast
    blind_width = (blind["q90"] - blind["q10"]).groupby(blind["series_id"]).mean()
    assert (width[0.0] / blind_width).max() < 0.7


def test_series_sharing_one_error_shape_pool_their_tails():
    from forecasting.engine.backtest import calibrate_pool

    # 300 series whose errors follow one heavy-tailed law at their own scale: 14 residuals per series
    # cannot see its tails, all series together can.
    rng = np.random.default_rng(3)
    n = 300
    scale = rng.uniform(5, 50, n)[None, :, None]
    point = np.full((3, n, 7), 1000.0)
    actual = point + rng.standard_t(2.5, (3, n, 7)) * scale
    assert calibrate_pool(point, actual, actual - point) > 0


def test_series_with_opposite_error_shapes_keep_their_own():
    from forecasting.engine.backtest import calibrate_pool

    # Half the series only ever miss upwards, half only downwards: a shared shape fits neither.
    rng = np.random.default_rng(5)
    n = 300
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[None, :, None]
    point = np.full((3, n, 7), 1000.0)
    actual = point + sign * rng.exponential(20.0, (3, n, 7))
    assert calibrate_pool(point, actual, actual - point) == 0.0


def test_sales_that_stopped_improbably_long_ago_are_flagged_with_the_rate_before():
    rng = np.random.default_rng(3)
    steady = rng.poisson(8.0, 130).astype(float) + 1.0  # sells every day (about 9 a day)
    sparse = np.where(np.arange(130) % 5 == 0, 3.0, 0.0)  # sells on 1 day in 5
    y = np.vstack(
        [
            np.r_[steady[:120], np.zeros(10)],  # 10 empty days after daily sales: stopped
            np.r_[steady[:129], 0.0],  # one empty day: nothing to say
            np.r_[sparse[:120], 3.0, np.zeros(9)],  # 9 empty days are normal at 1 sale day in 5
            np.r_[sparse[:90], 3.0, np.zeros(39)],  # 39 are not (0.8 ** 39 < 0.001)
            np.r_[np.full(115, np.nan), steady[:5], np.zeros(10)],  # 5 days of history: too young to judge
            np.r_[steady[:120], np.full(10, np.nan)],  # periods not observed are no evidence of a stop
        ]
    )
    runs, rate = sales_stopped(y, "D")
    assert list(runs) == [10, 0, 0, 39, 0, 0]
    # The rate is that of the window before the last sale (112 days), not diluted by the empty days.
    assert rate[0] == pytest.approx(steady[8:120].mean())
    assert rate[3] == pytest.approx(np.r_[sparse[:90], 3.0][-112:].mean())
    assert rate[1] == 0.0 and rate[2] == 0.0


def test_a_forecast_explains_which_series_stopped_selling(fast_config):
    history = daily_history(n_series=3, days=200, seed=2)
    last = history["date"].max()
    gone = (history["series_id"] == "S01") & (history["date"] > last - pd.Timedelta(days=14))
    history.loc[gone, "quantity"] = 0.0
    result = forecast(history, None, fast_config(horizon=7))
    expl = result.explanations.set_index("series_id")
    assert expl.loc["S01", "sales_stopped_periods"] == 14
    assert expl.loc["S01", "demand_before_stop"] > 0
    assert expl.loc[["S00", "S02"], "sales_stopped_periods"].tolist() == [0, 0]


def test_demand_lost_to_recent_stock_outs_is_estimated_from_the_same_weekdays_before():
    from forecasting.engine.explain import unobserved_demand

    week = np.array([2.0, 3.0, 3.0, 4.0, 9.0, 14.0, 4.0])
    y = np.tile(week, (2, 30))  # 210 days
    y[0, 20:25] = np.nan  # five days out of stock long ago (outside the last 112 days)
    y[0, -10:] = np.nan  # the last ten days out of stock
    y[1, :50] = np.nan  # a series that started on day 50: its leading days are not gaps
    gaps, recent, lost = unobserved_demand(y, "D")
    assert gaps.tolist() == [15, 0] and recent.tolist() == [10, 0]
    assert lost[0] == pytest.approx(np.tile(week, 30)[-10:].sum()) and lost[1] == 0.0


def test_days_without_stock_and_sales_are_unobserved_and_weeks_are_scaled_up():
    days = pd.date_range("2024-01-01", "2024-01-14")  # two Monday-to-Sunday weeks
    lines = pd.DataFrame({"product": "A", "date": days, "kind": "sale", "quantity": 10})
    # Out of stock from Thursday to Sunday of the first week: no sales then, but one on the Saturday (a
    # backorder: demand all the same), and the whole second week but Monday.
    out = [d for d in days if (d.day in (4, 5, 7)) or d.day >= 9]
    lines = lines[~lines["date"].isin(out)]
    stockouts = pd.DataFrame({"series_id": "A", "date": sorted([*out, days[5]])})
    daily = demand_from_lines(lines, freq="D", end="2024-01-14", location_col=None, stockouts=stockouts)
    q = daily.set_index("date")["quantity"]
    assert q[[d for d in days if d not in out]].eq(10).all()
    assert q[out].isna().all()
    weekly = demand_from_lines(lines, freq="W", end="2024-01-14", location_col=None, stockouts=stockouts)
    # Week 1: 4 days in stock sold 40, i.e. 70 over seven days; week 2: 10 on its one day in stock.
    assert weekly["quantity"].tolist() == [70.0, 70.0]
    first_week = lines[lines["date"] < days[7]]
    everything = pd.DataFrame({"series_id": "A", "date": days[7:]})
    weekly = demand_from_lines(first_week, freq="W", end="2024-01-14", location_col=None, stockouts=everything)
    assert weekly["quantity"].iloc[0] == 40 and np.isnan(weekly["quantity"].iloc[1])
    plain = demand_from_lines(lines, freq="D", end="2024-01-14", location_col=None)
    assert plain["quantity"].notna().all() and plain["quantity"].sum() == 50


def test_a_stock_out_does_not_pull_the_forecast_down(fast_config):
    # Four weeks out of stock at the end of the history: zero sales. Read as zero demand they drag the
    # forecast to the floor; read as unobserved, the forecast keeps the level and weekday pattern from before.
    history = daily_history(n_series=3, days=240, seed=4)
    last = history["date"].max()
    gap = (history["series_id"] == "S01") & (history["date"] > last - pd.Timedelta(days=28))
    zeros = history.assign(quantity=history["quantity"].where(~gap, 0.0))
    unseen = history.assign(quantity=history["quantity"].where(~gap, np.nan))
    config = fast_config(horizon=14, models=("seasonal_naive", "moving_average", "ets", "tsb", "gbm"))
    as_zero = forecast(zeros, None, config).forecast.query("series_id == 'S01'")
    result = forecast(unseen, None, config)
    fc = result.forecast.query("series_id == 'S01'")
    before = history[(history["series_id"] == "S01") & ~gap].tail(56)["quantity"].mean()
    assert as_zero["q50"].mean() < 0.5 * before
    assert fc["q50"].mean() == pytest.approx(before, rel=0.25)
    by_dow = fc.groupby(fc["date"].dt.day_of_week)["q50"].mean().reindex(range(7)).to_numpy()
    assert np.corrcoef(by_dow, WEEKLY_PATTERN)[0, 1] > 0.9
    assert np.isfinite(fc[["q10", "q50", "q90"]].to_numpy()).all()
    expl = result.explanations.set_index("series_id")
    assert expl.loc["S01", "unobserved_periods"] == 28 and expl.loc["S00", "unobserved_periods"] == 0
    assert expl.loc["S01", "sales_stopped_periods"] == 0  # the ledger explains the gap


@pytest.mark.parametrize("model", ["seasonal_naive", "ets", "sarimax", "tsb", "gbm", "lstm"])
def test_every_model_forecasts_through_gaps_in_the_history(model, fast_config):
    from forecasting.engine.models import LSTMConfig

    history = daily_history(n_series=2, days=200, seed=5)
    holes = history["date"].dt.day.isin([3, 4, 17]) | (history["date"] > history["date"].max() - pd.Timedelta(days=5))
    history.loc[holes & (history["series_id"] == "S00"), "quantity"] = np.nan
    lstm = LSTMConfig(window=14, units=4, epochs=2, max_windows=600, batch_size=128)
    result = forecast(history, None, fast_config(horizon=7, models=(model,), ensemble=False, lstm=lstm))
    fc = result.forecast
    assert model in set(result.metrics["model"])
    assert np.isfinite(fc[["q10", "q50", "q90"]].to_numpy()).all()
    s0 = fc[fc["series_id"] == "S00"]["q50"].mean()
    s0_seen = history[history["series_id"] == "S00"]["quantity"].tail(60).mean()
    assert s0 == pytest.approx(s0_seen, rel=0.35)


def test_week_of_year_and_month_are_left_out_until_the_history_spans_a_year():
    spec = build_panel(daily_history(n_series=1, days=100), None, 28, "D").spec
    assert time_index_features(spec, 100, "D") == [spec.index("woy"), spec.index("month")]
    assert time_index_features(spec, 363, "D") == [spec.index("woy"), spec.index("month")]
    assert time_index_features(spec, 364, "D") == []
    assert time_index_features(spec, 51, "W") != [] and time_index_features(spec, 52, "W") == []


def test_a_short_history_does_not_send_the_forecast_back_to_its_autumn_peak():
    # 100 days from September 1st: demand triples by mid-November, holds for two weeks, then halves for the
    # last two. December's week numbers and month were never seen, so with them the global model put the
    # horizon in the leaf of the peak weeks and forecast 21% above the current level; the level it should
    # forecast is that of the last two weeks.
    rng = np.random.default_rng(0)
    dates = pd.date_range("2011-09-01", periods=100, freq="D")
    t = np.arange(100)
    shape = np.where(t < 72, 1 + 2 * t / 72, np.where(t < 86, 3.0, 1.5))
    history = pd.concat(
        [
            pd.DataFrame({"series_id": f"S{s:02d}", "date": dates, "quantity": rng.poisson((10 + 2 * s) * shape)})
            for s in range(24)
        ],
        ignore_index=True,
    )
    panel = build_panel(history, None, 28, "D")
    gbm = GlobalGBM(freq="D", spec=panel.spec, horizon=28, config=GBMConfig(max_iter=80, min_samples_leaf=20))
    point = gbm.fit(panel.y, panel.x[:, :100]).point(28, panel.x[:, 100:])
    current = np.nanmean(panel.y[:, -14:], axis=1)
    ratio = point.sum() / (28 * current.sum())
    assert 0.9 <= ratio <= 1.05


def test_under_a_season_of_history_the_seasonal_naive_is_scored_but_never_chosen(fast_config):
    # 40 weeks: STEP sells 5 a week, then 60 a week from week 20, so the last value (all a seasonal naive can
    # repeat under a year of history) is exact at every backtest origin. A flat "last value" forecast is not a
    # seasonal model, and on lumpy demand it is the worst of the candidates: it is never the choice.
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-02", periods=40, freq="W-MON")
    step = np.where(np.arange(40) < 20, 5.0, 60.0)
    history = pd.concat(
        [pd.DataFrame({"series_id": "STEP", "date": dates, "quantity": step})]
        + [
            pd.DataFrame({"series_id": sid, "date": dates, "quantity": rng.poisson(base, 40).astype(float)})
            for sid, base in (("A", 20.0), ("B", 8.0), ("C", 3.0))
        ],
        ignore_index=True,
    )
    result = forecast(history, None, fast_config(horizon=4, freq="W"))
    metrics = result.metrics.set_index(["series_id", "model"])
    assert metrics.loc[("STEP", "seasonal_naive"), "wape"] == 0.0  # scored, and the best score
    assert set(result.chosen) <= {"moving_average", "tsb", "gbm", "ensemble"}
    assert result.chosen["STEP"] != "seasonal_naive"
