"""The forecasting pipeline: panel, rolling backtest, calibrated intervals, per-series model choice."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.engine.backtest import (
    CENTRE_GRID,
    CORE_QUANTILES,
    YEARLY_MODELS,
    BacktestResult,
    calibrate_spread,
    choose_models,
    consistent_winners,
    interval_quantiles,
    origin_frames,
    run_backtest,
    score_backtest,
    series_metrics,
    stacked_backtest,
    yearly_pattern,
)
from forecasting.engine.cold_start import cold_start_quantiles
from forecasting.engine.explain import explain
from forecasting.engine.models import (
    ETS,
    SARIMAX,
    CrostonTSB,
    GBMConfig,
    GlobalGBM,
    LSTMConfig,
    Model,
    MovingAverage,
    SeasonalNaive,
)
from forecasting.engine.panel import LONG_WINDOW, SEASON, Panel, build_panel

BASELINES = ("seasonal_naive", "moving_average")
#: Every candidate a configuration may name (``lstm`` needs TensorFlow).
MODEL_NAMES = ("seasonal_naive", "moving_average", "ets", "sarimax", "tsb", "gbm", "lstm")


@dataclass(frozen=True)
class ForecastConfig:
    """What to forecast and how hard to try."""

    horizon: int = 28
    freq: str | None = None
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    seed: int = 0
    country: str | None = None
    models: tuple[str, ...] = ("seasonal_naive", "moving_average", "ets", "sarimax", "tsb", "gbm")
    neural: bool = False
    ensemble: bool = True
    n_origins: int = 3
    origin_step: int | None = None
    selection_shrink: float = 0.5
    selection_margin: float = 0.1
    min_history: int | None = None
    intermittent_zero_share: float = 0.3
    local_max_series: int = 3000
    holdout: bool = False
    threads: int = 1
    gbm: GBMConfig = field(default_factory=GBMConfig)
    lstm: LSTMConfig = field(default_factory=LSTMConfig)
    progress: Callable[[str], None] | None = None


@dataclass
class ForecastResult:
    """The forecast frame (CONTRACTS shape), per-series backtest metrics and explanations."""

    forecast: pd.DataFrame
    metrics: pd.DataFrame
    explanations: pd.DataFrame
    chosen: pd.Series
    spreads: dict[str, tuple[float, float]]  # per model: (ordinary periods, event periods)
    pools: dict[str, float] = field(default_factory=dict)  # per model: weight of the all-series band shape
    holdout: pd.DataFrame | None = None
    candidates: dict[str, pd.DataFrame] = field(default_factory=dict)
    backtest: pd.DataFrame | None = None  # the chosen models at every backtest origin, out of sample (origin_frames)
    ensemble_weights: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # backtest CPU seconds per candidate


def quantile_column(q: float) -> str:
    """Column name of a quantile: 0.1 -> q10, 0.025 -> q2.5."""
    return "q" + f"{q * 100:.6f}".rstrip("0").rstrip(".")


def model_factories(config: ForecastConfig, panel: Panel) -> dict[str, Callable[[], Model]]:
    """Constructors of the candidate models for this panel (statsmodels ones only while the panel is small)."""
    kw: dict[str, Any] = {"freq": panel.freq, "seed": config.seed, "spec": panel.spec}
    table: dict[str, Callable[[], Model]] = {
        "seasonal_naive": lambda: SeasonalNaive(**kw),
        "moving_average": lambda: MovingAverage(**kw),
        "tsb": lambda: CrostonTSB(**kw),
        "ets": lambda: ETS(**kw),
        "sarimax": lambda: SARIMAX(**kw),
        "gbm": lambda: GlobalGBM(**kw, config=config.gbm, horizon=panel.horizon),
    }
    neural = config.neural or "lstm" in config.models
    if neural:
        from forecasting.engine.neural import GlobalLSTM

        table["lstm"] = lambda: GlobalLSTM(**kw, config=config.lstm, horizon=panel.horizon)
    names = list(dict.fromkeys(BASELINES + tuple(config.models) + (("lstm",) if neural else ())))
    if len(panel.ids) > config.local_max_series:
        names = [n for n in names if n not in ("ets", "sarimax")]
    return {n: table[n] for n in names if n in table}


def _split_holdout(panel: Panel) -> tuple[Panel, np.ndarray]:
    """Hide the last horizon periods of every series: the models never see them, they are only scored."""
    h = panel.horizon
    return Panel(panel.ids, panel.y[:, :-h], panel.dates, panel.x, panel.spec, panel.freq, h), panel.y[:, -h:]


def forecast(
    history: pd.DataFrame,
    future: pd.DataFrame | None,
    config: ForecastConfig,
    attributes: pd.DataFrame | None = None,
) -> ForecastResult:
    """Forecast every series of `history` for `config.horizon` periods with calibrated quantiles.

    With ``config.holdout`` the last horizon periods of each series are set aside before anything is fitted,
    the forecast covers them, and ``result.holdout`` scores every candidate and the chosen model on them.
    """
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime so that the limit below reaches it)
    from threadpoolctl import threadpool_limits

    # Native thread pools (OpenMP, BLAS) oversubscribe a shared CPU badly; one thread each is faster there.
    with threadpool_limits(config.threads):
        return _forecast(history, future, config, attributes)


def _forecast(
    history: pd.DataFrame,
    future: pd.DataFrame | None,
    config: ForecastConfig,
    attributes: pd.DataFrame | None,
) -> ForecastResult:
    """Body of :func:`forecast`, run inside the thread limit."""
    say = config.progress or (lambda msg: None)
    t0 = time.perf_counter()
    if config.horizon < 1:
        raise ValueError("horizon must be at least 1")
    if config.holdout:
        covs = [c for c in history.columns if c not in ("series_id", "date", "quantity")]
        full = build_panel(history, history[["series_id", "date", *covs]].iloc[:0], 0, config.freq, config.country)
        full.horizon = config.horizon
        panel, y_hold = _split_holdout(full)
    else:
        panel, y_hold = build_panel(history, future, config.horizon, config.freq, config.country), None
    n, h = len(panel.ids), panel.horizon
    say(f"{n} series, {panel.n_hist} periods ({panel.freq}), horizon {h}")
    np.random.seed(config.seed)

    factories = model_factories(config, panel)
    bt = run_backtest(panel, factories, config.n_origins, config.origin_step)
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in bt.seconds.items())
    say(f"backtest at {len(bt.cuts)} origins, CPU time: {cpu} ({time.perf_counter() - t0:.1f}s)")
    members = list(bt.points) if config.ensemble and len(bt.points) >= 2 else []
    weights = np.zeros(0)
    if members:
        bt.points["ensemble"], weights = stacked_backtest(np.stack([bt.points[m] for m in members]), bt.actuals)
    wmap = {m: float(w) for m, w in zip(members, weights, strict=True)}
    if wmap:
        say("ensemble weights: " + ", ".join(f"{m} {w:.2f}" for m, w in wmap.items()))
    with np.errstate(all="ignore"):
        zero_share = np.nanmean(np.where(np.isnan(panel.y), np.nan, panel.y == 0), axis=1)
    intermittent = zero_share >= config.intermittent_zero_share
    bt.sparse = intermittent
    metrics = score_backtest(bt, panel.ids)

    length = panel.length
    min_hist = config.min_history or 2 * LONG_WINDOW[panel.freq]
    cold = length < min_hist
    candidates = [m for m in bt.points if m != "tsb"]
    shrink, margin = config.selection_shrink, config.selection_margin
    # Under one season of history the seasonal naive has no season to repeat: it repeats the last period, a
    # forecast no buyer would pick for lumpy demand, which wins a few backtest origins by luck. It stays scored.
    unseasoned = panel.ids[length < panel.season]
    selectable = metrics[~((metrics["model"] == "seasonal_naive") & metrics["series_id"].isin(unseasoned))]
    chosen = choose_models(selectable, candidates, shrink, margin)
    if "tsb" in bt.points and intermittent.any():
        sub = selectable[selectable["series_id"].isin(panel.ids[intermittent])]
        chosen.update(choose_models(sub, candidates + ["tsb"], shrink, margin))
    chosen = chosen.reindex(panel.ids)
    if margin > 0:
        anchor = _pooled_best(selectable, candidates)
        chosen = chosen.where(consistent_winners(bt, chosen.to_numpy(), anchor), anchor)
    if panel.freq == "W":
        # Weekly series with a yearly pattern keep a model that can repeat it, whatever the recent origins say.
        yearly = yearly_pattern(panel.y, SEASON["W"]) & ~cold
        allowed = [m for m in YEARLY_MODELS if m in bt.points]
        if yearly.any() and allowed:
            sub = metrics[metrics["series_id"].isin(panel.ids[yearly])]
            chosen.update(choose_models(sub, allowed, shrink))

    qs = tuple(sorted(set(config.quantiles) | set(CORE_QUANTILES)))
    finals = _final_points(panel, factories, wmap)
    say(f"final fits done ({time.perf_counter() - t0:.1f}s)")
    ahead = panel.events[:, panel.n_hist : panel.n_hist + h]
    cubes = {
        name: interval_quantiles(
            pt,
            bt.actuals - bt.points[name],
            qs,
            bt.spread[name],
            bt.centre[name],
            bt.events,
            ahead,
            bt.pool_weight(name),
        )
        for name, pt in finals.items()
    }
    choice = chosen.to_numpy()
    cube = np.zeros((n, h, len(qs)))
    for name, c in cubes.items():
        rows = choice == name
        cube[rows] = c[rows]
    _floor_upper_quantiles(cube, panel, qs, intermittent)
    window = panel.y[:, -LONG_WINDOW[panel.freq] :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a series out of stock all through the window
        level = np.nan_to_num(np.nanmean(window, axis=1))
        since_start = np.nan_to_num(np.nanmean(panel.y, axis=1))
    # A new series' level and selling share are measured as its peers' are: over the window, on the days it existed.
    borrowed, groups = cold_start_quantiles(window, cold, cube, level, panel.ids, attributes, since_start)
    # A young series leans on its peers in proportion to how little history of its own it has.
    own = np.clip(length / min_hist, 0.0, 1.0)[:, None, None]
    cube = np.sort(np.where(cold[:, None, None], own * cube + (1 - own) * borrowed, cube), axis=-1)
    model_names = np.where(cold & (groups != ""), "cold_start", choice)

    frame = _frame(panel, cube, qs, config.quantiles, model_names)
    expl = explain(panel, chosen, metrics, cold)
    expl["model"] = model_names
    result = ForecastResult(
        forecast=frame,
        metrics=metrics,
        explanations=expl,
        chosen=pd.Series(model_names, index=panel.ids),
        spreads=dict(bt.spread),
        pools=dict(bt.pool),
        backtest=origin_frames(bt, panel.dates, panel.ids, chosen, panel.start),
        ensemble_weights=wmap,
        seconds=dict(bt.seconds),
    )
    if y_hold is not None:
        result.candidates = {k: _frame(panel, v, qs, config.quantiles, None) for k, v in cubes.items()}
        variants = _baseline_variants(bt, finals, qs, ahead)
        result.holdout = _holdout_metrics(y_hold, {**cubes, **variants}, cube, qs, bt, panel)
    say(f"done ({time.perf_counter() - t0:.1f}s)")
    return result


def _pooled_best(metrics: pd.DataFrame, candidates: list[str]) -> str:
    """The candidate with the lowest backtest WAPE over all series together."""
    m = metrics[metrics["model"].isin(candidates)].groupby("model")[["abs_error_total", "actual_total"]].sum()
    return str((m["abs_error_total"] / m["actual_total"].clip(lower=1e-9)).idxmin())


def _baseline_variants(
    bt: BacktestResult, finals: dict[str, np.ndarray], qs: tuple[float, ...], ahead: np.ndarray
) -> dict:
    """The baselines with every other median shift than the calibrated one, named ``model@centreC``.

    Scored on the holdout only, so that a benchmark can compare against the best version of each baseline.
    """
    out = {}
    for name in (*BASELINES, "ets"):
        if name not in finals:
            continue
        resid = bt.actuals - bt.points[name]
        for c in CENTRE_GRID:
            if c != bt.centre[name]:
                w = bt.pool_weight(name)
                s = calibrate_spread(bt.points[name], bt.actuals, resid, centre=c, events=bt.events, pool=w)
                out[f"{name}@centre{c:g}"] = interval_quantiles(finals[name], resid, qs, s, c, bt.events, ahead, w)
    return out


def _floor_upper_quantiles(cube: np.ndarray, panel: Panel, qs: tuple[float, ...], rows: np.ndarray) -> None:
    """Raise the upper quantiles of intermittent series to at least those of their recent demand, in place.

    A few backtest windows of a sparse series may hold almost no sales, so its residual quantiles alone can
    put even q90 at zero while the series does sell on more than one period in ten.
    """
    if not rows.any():
        return
    recent = panel.y[rows, -4 * LONG_WINDOW[panel.freq] :]
    for j, q in enumerate(qs):
        if q > 0.5:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                floor = np.nan_to_num(np.nanquantile(recent, q, axis=1, method="inverted_cdf"))
            cube[rows, :, j] = np.maximum(cube[rows, :, j], floor[:, None])
    cube[rows] = np.sort(cube[rows], axis=-1)


def _final_points(
    panel: Panel, factories: dict[str, Callable[[], Model]], weights: dict[str, float]
) -> dict[str, np.ndarray]:
    """Fit every model on the whole history and forecast the horizon; the ensemble with the stacked weights."""
    t, h = panel.n_hist, panel.horizon
    out = {}
    for name, make in factories.items():
        point = make().fit(panel.y, panel.x[:, :t]).point(h, panel.x[:, t : t + h])
        out[name] = np.nan_to_num(np.clip(point, 0.0, None))
    if weights:
        out["ensemble"] = sum(w * out[m] for m, w in weights.items())
    return out


def _frame(
    panel: Panel, cube: np.ndarray, qs: tuple[float, ...], wanted: tuple[float, ...], models: np.ndarray | None
) -> pd.DataFrame:
    """The long forecast frame: series_id, date, one qNN column per requested quantile[, model]."""
    n, h = cube.shape[:2]
    t = panel.n_hist
    out = pd.DataFrame(
        {
            "series_id": np.repeat(panel.ids, h),
            "date": pd.to_datetime(panel.dates[:, t : t + h].ravel()),
        }
    )
    for q in wanted:
        out[quantile_column(q)] = cube[:, :, qs.index(q)].ravel()
    if models is not None:
        out["model"] = np.repeat(models, h)
    return out


def _holdout_metrics(
    y_hold: np.ndarray, cubes: dict[str, np.ndarray], chosen_cube: np.ndarray, qs, bt: BacktestResult, panel: Panel
) -> pd.DataFrame:
    """Per-series metrics on the held-out periods for every candidate and for the chosen forecasts."""
    idx = [qs.index(q) for q in CORE_QUANTILES]
    rows = []
    for name, c in {**cubes, "chosen": chosen_cube}.items():
        m = series_metrics(y_hold[None], c[None][..., idx], bt.scale)
        rows.append(pd.DataFrame({"series_id": panel.ids, "model": name, **m}))
    return pd.concat(rows, ignore_index=True)
