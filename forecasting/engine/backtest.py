"""Rolling-origin backtests: per-series accuracy, residual quantiles, interval calibration and model choice."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.engine.models import Model
from forecasting.engine.panel import SEASON, Panel

#: Quantiles every backtest scores, whatever the caller asks for (q10 and q90 give the 80% interval).
CORE_QUANTILES = (0.1, 0.5, 0.9)
SPREAD_GRID = np.round(np.arange(0.6, 3.01, 0.05), 2)
#: How much of a series' median backtest residual moves its median forecast (0: none, 1: all of it).
CENTRE_GRID = (0.0, 0.5, 1.0)
#: Fewest residuals of one kind of period (ordinary or event) that give a series its own band for that kind.
MIN_KIND_POINTS = 6
#: Weight of the shape shared by all series in a band (0: each series' own residual quantiles only).
POOL_GRID = (0.0, 0.5, 1.0)
#: Quantiles the pooling weight is scored on: the body and the tails of the band.
POOL_QUANTILES = (0.05, 0.1, 0.25, 0.75, 0.9, 0.95)

#: Spread factors of a model's band: (ordinary periods, event periods).
Spread = tuple[float, float]


@dataclass
class BacktestResult:
    """Forecasts at each origin, the matching actuals, and what they say about each model."""

    cuts: list[int]
    points: dict[str, np.ndarray]  # model -> (origins, series, horizon)
    actuals: np.ndarray  # (origins, series, horizon)
    scale: np.ndarray  # (series,) in-sample seasonal-naive MAE before the first cut, for MASE
    events: np.ndarray | None = None  # (origins, series, horizon) True where an occasional driver was on
    spread: dict[str, Spread] = field(default_factory=dict)
    centre: dict[str, float] = field(default_factory=dict)
    pool: dict[str, float] = field(default_factory=dict)
    sparse: np.ndarray | None = None  # (series,) intermittent series: their bands keep their own shape
    medians: dict[str, np.ndarray] = field(default_factory=dict)  # model -> out-of-origin q50 at each origin
    seconds: dict[str, float] = field(default_factory=dict)
    metrics: pd.DataFrame | None = None  # one row per series and model

    def pool_weight(self, name: str) -> float | np.ndarray:
        """The model's calibrated pooling weight per series (intermittent series keep their own shape)."""
        return pool_weights(self.pool.get(name, 0.0), self.sparse)


def origin_cuts(n_hist: int, horizon: int, n_origins: int, step: int | None = None) -> list[int]:
    """History columns where each backtest origin cuts (oldest first); test windows never overlap the future."""
    step = step or horizon
    cuts = [n_hist - horizon - k * step for k in range(n_origins - 1, -1, -1)]
    return [c for c in cuts if c > 0]


def run_backtest(
    panel: Panel, factories: dict[str, Callable[[], Model]], n_origins: int = 3, step: int | None = None
) -> BacktestResult:
    """Fit every model at each origin on the history before it and forecast the next horizon.

    A model fitted at cut ``c`` sees ``y[:, :c]`` and the covariates up to ``c + horizon`` (known in advance,
    like a planned promotion), never the demand of its own test window.
    """
    h = panel.horizon
    cuts = origin_cuts(panel.n_hist, h, n_origins, step)
    actuals = np.stack([panel.y[:, c : c + h] for c in cuts])
    points: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for name, make in factories.items():
        t0 = time.process_time()
        per = []
        for c in cuts:
            model = make().fit(panel.y[:, :c].copy(), panel.x[:, :c])
            # A series that had not started by the cut has no history to go on: it is forecast at zero.
            per.append(np.nan_to_num(np.clip(model.point(h, panel.x[:, c : c + h]), 0.0, None)))
        points[name] = np.stack(per)
        seconds[name] = time.process_time() - t0
    first = cuts[0] if cuts else panel.n_hist
    scale = mase_scale(panel.y[:, :first], panel.season)
    events = panel.events
    ev = np.stack([events[:, c : c + h] for c in cuts]) if cuts else np.zeros((0, len(panel.ids), h), dtype=bool)
    return BacktestResult(cuts=cuts, points=points, actuals=actuals, scale=scale, events=ev, seconds=seconds)


def mase_scale(y: np.ndarray, m: int) -> np.ndarray:
    """Mean absolute seasonal difference of each series' history (lag-1 when shorter than two seasons)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lag = m if y.shape[1] > 2 * m else 1
        s = np.nanmean(np.abs(y[:, lag:] - y[:, :-lag]), axis=1) if y.shape[1] > lag else np.full(len(y), np.nan)
        s1 = np.nanmean(np.abs(np.diff(y, axis=1)), axis=1) if y.shape[1] > 1 else np.full(len(y), np.nan)
        mean = np.nanmean(y, axis=1) if y.shape[1] else np.full(len(y), np.nan)
    s = np.where(np.isfinite(s) & (s > 0), s, s1)
    return np.where(np.isfinite(s) & (s > 0), s, np.where(np.isfinite(mean) & (mean > 0), mean, 1.0))


def residual_quantiles(
    resid: np.ndarray, quantiles: tuple[float, ...], mask: np.ndarray | None = None
) -> dict[float, np.ndarray]:
    """Per-series empirical quantiles of residuals (origins, series, horizon) -> {q: (series,)}.

    With a `mask`, only the residuals where it is True count, and a series without any of them gets NaN.
    """
    if mask is not None:
        resid = np.where(mask, resid, np.nan)
    r = np.moveaxis(resid, 1, 0).reshape(resid.shape[1], -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        qs = np.nanquantile(r, quantiles, axis=1) if r.shape[1] else np.zeros((len(quantiles), r.shape[0]))
    if mask is not None:
        qs[:, (~np.isnan(r)).sum(axis=1) == 0] = np.nan
        return {q: qs[j] for j, q in enumerate(quantiles)}
    return {q: np.nan_to_num(qs[j]) for j, q in enumerate(quantiles)}


def _as_spread(s: float | Spread) -> Spread:
    if isinstance(s, int | float | np.number):
        return (float(s), float(s))
    ordinary, event = s
    return (float(ordinary), float(event))


def band_shape(
    resid: np.ndarray, mask: np.ndarray | None, quantiles: tuple[float, ...], pool: float | np.ndarray = 0.0
) -> dict[float, np.ndarray]:
    """Per series, how far each quantile of its residuals where `mask` holds lies from their median.

    A series with fewer than :data:`MIN_KIND_POINTS` such residuals uses all of its residuals. With `pool` > 0
    the shape leans that far towards the one shared by all series: the quantiles of every series' residuals
    divided by its mean absolute residual, times the series' own mean absolute residual. A handful of
    backtest periods say little about one series' tails; all series together say more, and each keeps its
    own scale. `pool` may be one weight per series; series with weight 0 neither lean nor shape the shared one.
    """
    if mask is None:
        mask = np.ones(resid.shape, dtype=bool)
    else:
        valid = (mask & ~np.isnan(resid)).sum(axis=(0, 2))
        mask = mask | (valid < MIN_KIND_POINTS)[None, :, None]
    rq = residual_quantiles(resid, quantiles, mask)
    own = {q: np.nan_to_num(rq[q] - rq[0.5]) for q in quantiles}
    weight = np.broadcast_to(np.asarray(pool, dtype=float), (resid.shape[1],))
    if not (weight > 0).any():
        return own
    r = np.where(mask & (weight > 0)[None, :, None], resid, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.nan_to_num(np.nanmean(np.abs(r), axis=(0, 2)))
        z = r / np.where(scale > 0, scale, np.nan)[None, :, None]
    z = z[np.isfinite(z)]
    if z.size == 0:
        return own
    pq = dict(zip(quantiles, np.quantile(z, quantiles), strict=True))
    return {q: (1 - weight) * own[q] + weight * (pq[q] - pq[0.5]) * scale for q in quantiles}


def band_offsets(
    resid: np.ndarray,
    events: np.ndarray | None,
    quantiles: tuple[float, ...],
    spread: float | Spread,
    centre: float = 1.0,
    pool: float | np.ndarray = 0.0,
) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    """What each quantile adds to the point forecast, per series: ``(ordinary periods, event periods)``.

    Each kind of period takes the shape of the residuals in periods of that kind (:func:`band_shape`, leaning
    `pool` towards the shape of all series), widened by that kind's spread factor. Both kinds move the median
    by `centre` of the median of all residuals, so the median forecast does not depend on the split. Without
    events both kinds are the same band.
    """
    qs = tuple(sorted(set(quantiles) | {0.5}))
    spread = _as_spread(spread)
    shift = centre * residual_quantiles(resid, (0.5,))[0.5]
    if events is None or not events.any():
        shape = band_shape(resid, None, qs, pool)
        one = {q: shift + spread[0] * shape[q] for q in qs}
        return one, one
    out = []
    for mask, s in ((~events, spread[0]), (events, spread[1])):
        shape = band_shape(resid, mask, qs, pool)
        out.append({q: shift + s * shape[q] for q in qs})
    return out[0], out[1]


def apply_bands(
    point: np.ndarray,
    events: np.ndarray | None,
    offsets: tuple[dict[float, np.ndarray], dict[float, np.ndarray]],
    quantiles: tuple[float, ...],
) -> np.ndarray:
    """Quantile forecasts (series, H, Q) from point forecasts (series, H) and :func:`band_offsets`."""
    ordinary, event = offsets
    ev = np.zeros(point.shape, dtype=bool) if events is None else events
    out = np.stack([point + np.where(ev, event[q][:, None], ordinary[q][:, None]) for q in quantiles], axis=-1)
    return np.sort(np.clip(out, 0.0, None), axis=-1)


def loo_quantiles(
    point: np.ndarray,
    resid: np.ndarray,
    quantiles: tuple[float, ...],
    s: float | Spread,
    centre: float = 1.0,
    events: np.ndarray | None = None,
    pool: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Quantile forecasts at each origin from the residuals of the other origins (origins, series, H, Q)."""
    k = resid.shape[0]
    out = np.empty(point.shape + (len(quantiles),))
    for i in range(k):
        others = [j for j in range(k) if j != i] or [i]
        ev = None if events is None else events[others]
        offsets = band_offsets(resid[others], ev, quantiles, s, centre, pool)
        out[i] = apply_bands(point[i], None if events is None else events[i], offsets, quantiles)
    return out


def pinball(actual: np.ndarray, qpred: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Mean pinball loss over quantiles per element of the leading axes."""
    qs = np.asarray(quantiles)
    d = actual[..., None] - qpred
    return np.mean(np.maximum(qs * d, (qs - 1) * d), axis=-1)


def series_metrics(actual: np.ndarray, q: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """WAPE, MASE, bias, pinball and 10-90 coverage per series from (origins, series, H) actuals and q10/50/90."""
    ok = ~np.isnan(actual)
    a = np.where(ok, actual, 0.0)
    med = q[..., 1]
    err = np.where(ok, np.abs(a - med), 0.0)
    cnt = ok.sum(axis=(0, 2))
    tot = a.sum(axis=(0, 2))
    with np.errstate(all="ignore"):
        wape = err.sum(axis=(0, 2)) / tot
        mae = err.sum(axis=(0, 2)) / cnt
        bias = np.where(ok, med - a, 0.0).sum(axis=(0, 2)) / tot
        pl = np.where(ok, pinball(a, q, CORE_QUANTILES), 0.0).sum(axis=(0, 2)) / cnt
        inside = ok & (a >= q[..., 0] - 1e-9) & (a <= q[..., 2] + 1e-9)
        cover = inside.sum(axis=(0, 2)) / cnt
    return {
        "wape": wape,
        "mase": mae / scale,
        "bias": bias,
        "pinball": pl / scale,
        "coverage_80": cover,
        "mae": mae,
        "actual_total": tot,
        "abs_error_total": err.sum(axis=(0, 2)),
        "n_points": cnt,
    }


def pooled_wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Absolute error over all valid points divided by their total demand."""
    ok = ~np.isnan(actual)
    return float(np.abs(actual[ok] - forecast[ok]).sum() / max(actual[ok].sum(), 1e-9))


def calibrate_centre(point: np.ndarray, actual: np.ndarray, resid: np.ndarray) -> float:
    """How much of the per-series median residual to add to the forecast, by leave-one-origin-out WAPE.

    A mean forecaster on skewed or intermittent demand gains from moving towards the median; a model that
    already forecasts the median only picks up noise from a few origins' residuals.
    """
    if resid.shape[0] < 2 or (~np.isnan(actual)).sum() == 0:
        return 1.0
    scores = [pooled_wape(actual, loo_quantiles(point, resid, (0.5,), 1.0, c)[..., 0]) for c in CENTRE_GRID]
    return float(CENTRE_GRID[int(np.argmin(scores))])


def pool_weights(pool: float, sparse: np.ndarray | None) -> float | np.ndarray:
    """Per-series pooling weights: intermittent series keep their own shape.

    Whether an intermittent series' upper quantile is above zero depends on how often that series sells,
    which no shape scaled from other series can say.
    """
    return pool if sparse is None else np.where(sparse, 0.0, pool)


def calibrate_pool(
    point: np.ndarray,
    actual: np.ndarray,
    resid: np.ndarray,
    centre: float = 1.0,
    events: np.ndarray | None = None,
    sparse: np.ndarray | None = None,
) -> float:
    """The weight of the all-series band shape (:data:`POOL_GRID`) with the lowest leave-one-origin-out pinball
    loss over :data:`POOL_QUANTILES` (ties keep each series' own shape)."""
    ok = ~np.isnan(actual)
    if resid.shape[0] < 2 or ok.sum() == 0:
        return 0.0
    a = np.where(ok, actual, 0.0)
    scores = []
    for w in POOL_GRID:
        q = loo_quantiles(point, resid, POOL_QUANTILES, 1.0, centre, events, pool_weights(w, sparse))
        scores.append(pinball(a, q, POOL_QUANTILES)[ok].mean())
    return float(POOL_GRID[int(np.argmin(scores))])


def calibrate_spread(
    point: np.ndarray,
    actual: np.ndarray,
    resid: np.ndarray,
    target: float = 0.8,
    centre: float = 1.0,
    events: np.ndarray | None = None,
    pool: float | np.ndarray = 0.0,
) -> Spread:
    """The spread factors whose leave-one-origin-out 10-90 intervals cover `target` of the backtest actuals,
    in ordinary periods and in event periods separately (a kind absent from the backtest takes the other's).
    """
    ok = ~np.isnan(actual)
    if ok.sum() == 0 or resid.shape[0] < 2:
        return (1.0, 1.0)
    base = loo_quantiles(point, resid, CORE_QUANTILES, 1.0, centre, events, pool)
    lo0, mid, hi0 = base[..., 0], base[..., 1], base[..., 2]
    ev = np.zeros(actual.shape, dtype=bool) if events is None else events

    def fit(rows: np.ndarray) -> float | None:
        if not rows.any():
            return None
        best, best_gap = 1.0, np.inf
        # Nearest to 1 first: on lumpy (intermittent) demand many spreads cover alike; then none should distort.
        for s in sorted(SPREAD_GRID, key=lambda v: abs(v - 1.0)):
            lo = np.clip(mid - s * (mid - lo0), 0, None)
            hi = mid + s * (hi0 - mid)
            cov = ((actual >= lo - 1e-9) & (actual <= hi + 1e-9))[rows].mean()
            gap = abs(cov - target)
            if gap < best_gap - 1e-12:
                best, best_gap = float(s), gap
        return best

    ordinary, event = fit(ok & ~ev), fit(ok & ev)
    # No scored period of a kind: it takes the other kind's spread, and 1 (the residuals as they are) without either.
    ordinary = (1.0 if event is None else event) if ordinary is None else ordinary
    return (ordinary, ordinary if event is None else event)


def score_backtest(bt: BacktestResult, ids: np.ndarray) -> pd.DataFrame:
    """Calibrate each model's interval spread, then score every series and model with out-of-origin quantiles."""
    rows = []
    for name, pts in bt.points.items():
        resid = bt.actuals - pts
        c = calibrate_centre(pts, bt.actuals, resid)
        bt.pool[name] = calibrate_pool(pts, bt.actuals, resid, c, bt.events, bt.sparse)
        w = bt.pool_weight(name)
        s = calibrate_spread(pts, bt.actuals, resid, centre=c, events=bt.events, pool=w)
        bt.spread[name], bt.centre[name] = s, c
        q = loo_quantiles(pts, resid, CORE_QUANTILES, s, c, bt.events, w)
        bt.medians[name] = q[..., 1]
        m = series_metrics(bt.actuals, q, bt.scale)
        rows.append(pd.DataFrame({"series_id": ids, "model": name, **m}))
    bt.metrics = pd.concat(rows, ignore_index=True)
    return bt.metrics


def choose_models(metrics: pd.DataFrame, candidates: list[str], shrink: float = 0.5, margin: float = 0.0) -> pd.Series:
    """Per-series winner: backtest WAPE shrunk towards each model's all-series WAPE (few origins are noisy).

    With a `margin`, a series leaves the model that is best over all series only when its own winner beats
    that model by the margin on the series: a lead won on a handful of backtest points is mostly luck.
    """
    m = metrics[metrics["model"].isin(candidates)]
    agg = m.groupby("model")[["abs_error_total", "actual_total"]].sum()
    overall = (agg["abs_error_total"] / agg["actual_total"].clip(lower=1e-9)).rename("overall")
    m = m.join(overall, on="model")
    own = m["abs_error_total"] / m["actual_total"].clip(lower=1e-9)
    own = own.where(m["actual_total"] > 0, m["mae"] / (m["mae"].mean() + 1e-9))
    m = m.assign(score=((1 - shrink) * own + shrink * m["overall"]).fillna(np.inf))
    m = m.assign(_rank=m["model"].map({c: i for i, c in enumerate(candidates)}))
    best = m.sort_values(["series_id", "score", "_rank"]).drop_duplicates("series_id").set_index("series_id")
    if margin <= 0 or overall.empty:
        return best["model"]
    anchor = overall.idxmin()
    base = m[m["model"] == anchor].set_index("series_id")["score"].reindex(best.index)
    keep = best["score"] < (1 - margin) * base.fillna(np.inf)
    return best["model"].where(keep, anchor)


def consistent_winners(bt: BacktestResult, chosen: np.ndarray, anchor: str) -> np.ndarray:
    """Per series, whether its chosen model beat `anchor` at every backtest origin (not just on the total).

    One lucky origin, such as a bulk order that a zero forecast happened to dodge, can decide a total over
    three origins; a model that is better at each of them is a safer bet.
    """
    ok = ~np.isnan(bt.actuals)
    a = np.where(ok, bt.actuals, 0.0)

    def err(name: str) -> np.ndarray:
        return np.where(ok, np.abs(a - bt.medians[name]), 0.0).sum(axis=2)  # (origins, series)

    base = err(anchor)
    out = np.ones(len(chosen), dtype=bool)
    for name in set(chosen) - {anchor}:
        rows = chosen == name
        out[rows] = (err(name)[:, rows] < base[:, rows]).all(axis=0)
    return out


#: Candidates that can carry a yearly pattern forward (seasonal lags, seasonal states, week-of-year features).
YEARLY_MODELS = ("seasonal_naive", "ets", "gbm", "lstm")


def yearly_pattern(y: np.ndarray, season: int, threshold: float = 0.5) -> np.ndarray:
    """Per series, whether the same weeks stand out every year: lag-`season` autocorrelation of log demand.

    Backtest origins sit in the last few periods; a peak that lies ahead (Christmas seen from October) is in
    none of them, so a flat model can win every origin. Needs two full seasons of history to say yes.
    """
    out = np.zeros(len(y), dtype=bool)
    if y.shape[1] < 2 * season + 1:
        return out
    z = np.log1p(np.clip(y, 0.0, None))
    a, b = z[:, season:], z[:, :-season]
    ok = ~np.isnan(a) & ~np.isnan(b)
    enough = ok.sum(axis=1) >= season + 1
    with np.errstate(all="ignore"):
        n = ok.sum(axis=1).clip(min=1)
        am = np.where(ok, a, 0.0).sum(axis=1) / n
        bm = np.where(ok, b, 0.0).sum(axis=1) / n
        da, db = np.where(ok, a - am[:, None], 0.0), np.where(ok, b - bm[:, None], 0.0)
        corr = (da * db).sum(axis=1) / np.sqrt((da**2).sum(axis=1) * (db**2).sum(axis=1))
    return enough & (np.nan_to_num(corr) >= threshold)


def stack_weights(points: np.ndarray, actual: np.ndarray, max_points: int = 20_000, seed: int = 0) -> np.ndarray:
    """Non-negative weights summing to one that minimise the absolute error of the combined forecast.

    ``points`` is (models, N), ``actual`` (N,). A linear programme (least absolute deviations on the simplex);
    a random sample of `max_points` keeps it fast on large panels.
    """
    from scipy.optimize import linprog
    from scipy.sparse import bmat, csr_matrix, identity

    k = points.shape[0]
    ok = ~np.isnan(actual) & np.all(np.isfinite(points), axis=0)
    p, a = points[:, ok], actual[ok]
    if a.size > max_points:
        idx = np.random.default_rng(seed).choice(a.size, max_points, replace=False)
        p, a = p[:, idx], a[idx]
    n = a.size
    if n == 0 or k == 1:
        return np.full(k, 1.0 / k)
    # minimise sum(t) subject to -t <= a - w.p <= t, sum(w) = 1, w >= 0
    eye = identity(n, format="csr")
    a_ub = bmat([[csr_matrix(-p.T), -eye], [csr_matrix(p.T), -eye]], format="csr")
    res = linprog(
        np.concatenate([np.zeros(k), np.ones(n)]),
        A_ub=a_ub,
        b_ub=np.concatenate([-a, a]),
        A_eq=np.concatenate([np.ones(k), np.zeros(n)])[None],
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    if not res.success:
        return np.full(k, 1.0 / k)
    w = np.clip(res.x[:k], 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k)


def stacked_backtest(points: np.ndarray, actual: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stacked ensemble forecasts at each origin with weights fitted on the other origins, and all-origin weights.

    ``points`` is (models, origins, series, H). Scoring each origin with weights it did not help to fit keeps
    the ensemble's backtest honest against the single models it competes with.
    """
    k, n_orig = points.shape[:2]
    out = np.empty(points.shape[1:])
    for i in range(n_orig):
        others = [j for j in range(n_orig) if j != i] or [i]
        w = stack_weights(points[:, others].reshape(k, -1), actual[others].ravel(), seed=seed)
        out[i] = np.tensordot(w, points[:, i], axes=1)
    return out, stack_weights(points.reshape(k, -1), actual.ravel(), seed=seed)


def interval_quantiles(
    point: np.ndarray,
    resid: np.ndarray,
    quantiles: tuple[float, ...],
    spread: float | Spread,
    centre: float = 1.0,
    events: np.ndarray | None = None,
    future_events: np.ndarray | None = None,
    pool: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Final quantile forecasts (series, H, Q) from all backtest residuals, with the calibrated spreads.

    `events` marks the event periods of the backtest windows (origins, series, H), `future_events` those of
    the forecast horizon (series, H).
    """
    offsets = band_offsets(resid, events, quantiles, spread, centre, pool)
    return apply_bands(point, future_events, offsets, quantiles)


def origin_frames(
    bt: BacktestResult, dates: np.ndarray, ids: np.ndarray, chosen: pd.Series, start: np.ndarray | None = None
) -> pd.DataFrame:
    """Each series' chosen model at every backtest origin: what it forecast for periods it had not seen.

    Returns ``series_id, origin, date, actual, q10, q50, q90, model`` (origin 0 the oldest); each origin's band
    comes from the residuals of the other origins (as scored), so it is out of sample too. Series whose chosen
    model was not backtested are absent. Periods before a series' `start` column are left out; an unobserved
    period after it stays, with a NaN actual, so that every window is whole.
    """
    columns = ["series_id", "origin", "date", "actual", "q10", "q50", "q90", "model"]
    if not bt.cuts:
        return pd.DataFrame(columns=columns)
    h = bt.actuals.shape[2]
    pick = chosen.reindex(ids).astype(object).to_numpy()
    parts = []
    for name in sorted(set(pick) & set(bt.points)):
        rows = np.flatnonzero(pick == name)
        pts = bt.points[name][:, rows]
        resid = bt.actuals[:, rows] - pts
        ev = None if bt.events is None else bt.events[:, rows]
        spread, centre = bt.spread.get(name, 1.0), bt.centre.get(name, 1.0)
        w = bt.pool_weight(name)
        w = w[rows] if isinstance(w, np.ndarray) and w.ndim else w
        q = loo_quantiles(pts, resid, CORE_QUANTILES, spread, centre, ev, w)
        for k, c in enumerate(bt.cuts):
            parts.append(
                pd.DataFrame(
                    {
                        "series_id": np.repeat(ids[rows], h),
                        "origin": k,
                        "date": pd.to_datetime(dates[rows, c : c + h].ravel()),
                        "actual": bt.actuals[k, rows].ravel(),
                        "q10": q[k, ..., 0].ravel(),
                        "q50": q[k, ..., 1].ravel(),
                        "q90": q[k, ..., 2].ravel(),
                        "model": name,
                        "_started": (
                            np.zeros(len(rows) * h, dtype=bool)
                            if start is None
                            else (c + np.arange(h)[None, :] >= start[rows][:, None]).ravel()
                        ),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    keep = out["actual"].notna() | out.pop("_started")
    return out[keep].sort_values(["series_id", "origin", "date"], kind="stable").reset_index(drop=True)


__all__ = [
    "SEASON",
    "YEARLY_MODELS",
    "BacktestResult",
    "CORE_QUANTILES",
    "Spread",
    "apply_bands",
    "band_offsets",
    "band_shape",
    "calibrate_pool",
    "calibrate_centre",
    "calibrate_spread",
    "choose_models",
    "consistent_winners",
    "interval_quantiles",
    "origin_frames",
    "origin_cuts",
    "run_backtest",
    "score_backtest",
    "series_metrics",
    "stack_weights",
    "yearly_pattern",
    "stacked_backtest",
]
