"""Forecasting models behind one interface: ``fit(history, covariates)`` then ``predict(horizon, ...)``.

``history`` is a (series, periods) demand matrix, right-aligned and NaN before each series' first period;
``covariates`` a (series, periods, features) cube for the same periods. ``predict`` returns the point forecast
(series, horizon), or with ``quantiles`` a (series, horizon, quantiles) cube built from the model's calibrated
residual quantiles (see :mod:`forecasting.engine.backtest`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from forecasting.engine.features import FeatureSpec, time_index_features
from forecasting.engine.panel import LONG_WINDOW, SEASON, SHORT_WINDOW


@dataclass(frozen=True)
class GBMConfig:
    """Settings of the global gradient-boosting model."""

    max_iter: int = 200
    learning_rate: float = 0.07
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    max_rows: int = 150_000
    min_origins: int = 8
    loss: str = "absolute_error"
    threads: int = 1


@dataclass(frozen=True)
class LSTMConfig:
    """Settings of the global TensorFlow sequence model (small enough for two CPU cores)."""

    window: int = 56
    units: int = 32
    epochs: int = 8
    batch_size: int = 256
    max_windows: int = 40_000
    threads: int = 2


@dataclass
class Model:
    """Base class: a point forecaster whose quantiles come from calibrated residual quantiles."""

    freq: str = "D"
    seed: int = 0
    spec: FeatureSpec | None = None
    name: str = "model"
    residual_quantiles: dict[float, np.ndarray] = field(default_factory=dict)

    def fit(self, history: np.ndarray, covariates: np.ndarray | None = None) -> Model:
        """Learn from the history (and its covariates)."""
        self.history_ = history
        self.covariates_ = covariates
        return self

    def point(self, horizon: int, future_covariates: np.ndarray | None = None) -> np.ndarray:
        """Point forecast (series, horizon)."""
        raise NotImplementedError

    def predict(
        self, horizon: int, future_covariates: np.ndarray | None = None, quantiles: tuple[float, ...] | None = None
    ) -> np.ndarray:
        """Point forecast, or quantile cube when quantiles are asked for (non-negative, non-decreasing)."""
        p = np.clip(self.point(horizon, future_covariates), 0.0, None)
        if not quantiles:
            return p
        return quantiles_from_residuals(p, self.residual_quantiles, quantiles)

    @property
    def m(self) -> int:
        """Seasonal period."""
        return SEASON[self.freq]


def quantiles_from_residuals(
    point: np.ndarray, residual_quantiles: dict[float, np.ndarray], quantiles: tuple[float, ...]
) -> np.ndarray:
    """Add each series' residual quantiles to its point forecast; sort and clip so quantiles are coherent."""
    out = np.empty(point.shape + (len(quantiles),))
    for j, q in enumerate(quantiles):
        r = residual_quantiles.get(q)
        out[..., j] = point + (r[:, None] if r is not None else 0.0)
    return np.sort(np.clip(out, 0.0, None), axis=-1)


def _last_valid(y: np.ndarray, k: int) -> np.ndarray:
    """The last k columns of each row (NaN where the series has not started)."""
    return y[:, -k:] if y.shape[1] >= k else np.pad(y, ((0, 0), (k - y.shape[1], 0)), constant_values=np.nan)


def _nanmean(a: np.ndarray, axis: int = 1) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def fill_gaps(y: np.ndarray, freq: str, k: int = 4) -> np.ndarray:
    """The history with its unobserved periods after each series' start filled in; leading NaN stays.

    A gap (days out of stock, say) takes the mean of the same weekday over the last `k` weeks for daily
    series, of the last `k` weeks for weekly ones, filled values included, so a long gap carries the level and
    the weekly pattern it began with. Models that need a regular series (seasonal naive, exponential smoothing,
    the sequence model's inputs) see this; scores and training targets keep the gaps.
    """
    gaps = np.isnan(y) & (np.cumsum(~np.isnan(y), axis=1) > 0)
    if not gaps.any():
        return y
    step = 7 if freq == "D" else 1
    out = y.copy()
    for t in np.flatnonzero(gaps.any(axis=0)):
        rows = gaps[:, t]
        cols = t - step * np.arange(1, k + 1)
        cols = cols[cols >= 0]
        past = _nanmean(out[rows][:, cols]) if len(cols) else np.full(rows.sum(), np.nan)
        if np.isnan(past).any():
            # Not a whole step of history yet: the mean of everything seen so far.
            past = np.where(np.isnan(past), _nanmean(out[rows, :t]), past)
        out[rows, t] = past
    return out


@dataclass
class SeasonalNaive(Model):
    """Each period repeats the same period one season ago (the last value when history is shorter)."""

    name: str = "seasonal_naive"

    def point(self, horizon, future_covariates=None):
        y = fill_gaps(self.history_, self.freq)
        m = self.m
        last = _last_valid(y, m)
        lastval = y[:, -1:]
        idx = np.arange(horizon) % m
        out = last[:, idx]
        return np.where(np.isnan(out), lastval, out)


@dataclass
class MovingAverage(Model):
    """A flat forecast at the mean of the last few weeks."""

    name: str = "moving_average"

    def point(self, horizon, future_covariates=None):
        mean = _nanmean(_last_valid(self.history_, LONG_WINDOW[self.freq]))
        return np.repeat(np.nan_to_num(mean)[:, None], horizon, axis=1)


@dataclass
class CrostonTSB(Model):
    """Teunter-Syntetos-Babai: smoothed demand probability times smoothed size, for intermittent series."""

    name: str = "tsb"
    alpha: float = 0.1
    beta: float = 0.1

    def point(self, horizon, future_covariates=None):
        y = self.history_
        n = y.shape[0]
        started = np.zeros(n, dtype=bool)
        prob = np.zeros(n)
        size = np.zeros(n)
        for t in range(y.shape[1]):
            v = y[:, t]
            ok = ~np.isnan(v)
            first = ok & ~started & (v > 0)
            prob[first], size[first] = 1.0, v[first]
            started |= first
            upd = ok & started & ~first
            nz = upd & (v > 0)
            prob[upd] += self.beta * ((v[upd] > 0) - prob[upd])
            size[nz] += self.alpha * (v[nz] - size[nz])
        return np.repeat((prob * size)[:, None], horizon, axis=1)


def _tail(y: np.ndarray, max_len: int) -> np.ndarray:
    v = y[~np.isnan(y)]
    return v[-max_len:]


@dataclass
class ETS(Model):
    """statsmodels exponential smoothing per series (additive seasonality when two seasons are available)."""

    name: str = "ets"
    max_len: int = 730

    def point(self, horizon, future_covariates=None):
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        out = np.zeros((self.history_.shape[0], horizon))
        fallback = MovingAverage(freq=self.freq).fit(self.history_).point(horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, row in enumerate(fill_gaps(self.history_, self.freq)):
                v = _tail(row, self.max_len)
                seasonal = "add" if len(v) >= 2 * self.m + 2 and v.std() > 0 else None
                try:
                    if len(v) < 8 or v.std() == 0:
                        raise ValueError("too short")
                    fit = ExponentialSmoothing(
                        v,
                        trend=None,
                        seasonal=seasonal,
                        seasonal_periods=self.m if seasonal else None,
                        initialization_method="estimated",
                    ).fit()
                    f = np.asarray(fit.forecast(horizon))
                    out[i] = f if np.all(np.isfinite(f)) else fallback[i]
                except Exception:
                    out[i] = fallback[i]
        return out


def sarimax_exog_columns(spec: FeatureSpec, freq: str) -> list[int]:
    """Feature columns a SARIMAX regression uses: holidays, month ends and the user covariates."""
    keep = ["holiday", "holiday_near", "month_end", "payday"] + list(spec.covariates)
    return [spec.index(c) for c in keep if c in spec.names]


@dataclass
class SARIMAX(Model):
    """statsmodels SARIMAX(1,0,0) with a constant, weekday dummies (daily) and exogenous regressors."""

    name: str = "sarimax"
    max_len: int = 365

    def _design(self, x: np.ndarray) -> np.ndarray:
        cols = [x[:, j] for j in sarimax_exog_columns(self.spec, self.freq)] if self.spec else []
        if self.freq == "D" and self.spec is not None and "dow" in self.spec.names:
            dow = x[:, self.spec.index("dow")]
            cols += [(dow == d).astype(float) for d in range(1, 7)]
        return np.column_stack(cols) if cols else np.zeros((len(x), 0))

    def point(self, horizon, future_covariates=None):
        from statsmodels.tsa.statespace.sarimax import SARIMAX as SM

        y, cov = self.history_, self.covariates_
        out = np.zeros((y.shape[0], horizon))
        fallback = SeasonalNaive(freq=self.freq).fit(y).point(horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(y.shape[0]):
                ok = ~np.isnan(y[i])
                v = y[i][ok][-self.max_len :]
                try:
                    if len(v) < 3 * SHORT_WINDOW[self.freq] or v.std() == 0:
                        raise ValueError("too short")
                    xh = self._design(cov[i][ok][-self.max_len :]) if cov is not None else None
                    xf = self._design(future_covariates[i]) if future_covariates is not None else None
                    if xh is not None and xh.shape[1]:
                        keep = xh.std(axis=0) > 1e-9
                        xh, xf = xh[:, keep], xf[:, keep]
                    if xh is None or xh.shape[1] == 0:
                        xh = xf = None
                    res = SM(v, exog=xh, order=(1, 0, 0), trend="c").fit(disp=False, maxiter=60, method="lbfgs")
                    f = np.asarray(res.forecast(horizon, exog=xf))
                    out[i] = f if np.all(np.isfinite(f)) and f.max() < 10 * (v.max() + 1) else fallback[i]
                except Exception:
                    out[i] = fallback[i]
        return out


# ---------------------------------------------------------------- global gradient boosting


def _origin_features(
    y: np.ndarray, x: np.ndarray, spec: FeatureSpec, freq: str, origin: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows (series x horizon) for forecasts made at column `origin` (history is ``y[:, :origin]``).

    Returns the features, the per-series scale (mean level of the last few weeks) and the target column index
    of each row. Lags and rolling means are divided by the scale so that one model serves all series.
    """
    n = y.shape[0]
    m, w1, w2 = SEASON[freq], SHORT_WINDOW[freq], LONG_WINDOW[freq]
    hist = y[:, :origin]
    recent = _last_valid(hist, w2)
    level = _nanmean(recent)
    overall = _nanmean(hist)
    level = np.where(
        np.isfinite(level) & (level > 0), level, np.where(np.isfinite(overall) & (overall > 0), overall, 1.0)
    )
    sc = level[:, None]
    lags = _last_valid(hist, w1)[:, ::-1] / sc  # lag1..lagw1
    short = _nanmean(_last_valid(hist, w1)) / level
    longer = _nanmean(_last_valid(hist, 4 * w2)) / level
    zero_frac = _nanmean(recent == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cv = np.nanstd(recent, axis=1) / level
    series_block = np.column_stack([lags, short, longer, zero_frac, cv, np.log1p(level)])
    steps = np.arange(1, horizon + 1)
    tgt = origin + steps - 1
    # The same season position, as many whole seasons back as needed to stay inside the history.
    k = np.ceil(steps / m).astype(int)
    seas_cols = [tgt - m * (k + j) for j in range(4 if freq == "D" else 1)]
    seas = (
        np.stack([np.where(c >= 0, hist[:, np.clip(c, 0, None)], np.nan) for c in seas_cols], axis=-1) / sc[..., None]
    )
    seas_last = seas[..., 0]
    seas_mean = _nanmean(seas, axis=-1)
    yl = 364 if freq == "D" else 52
    ycols = tgt - yl
    yearly = np.where((ycols >= 0) & (ycols < origin), hist[:, np.clip(ycols, 0, max(origin - 1, 0))], np.nan) / sc
    # Promotion context: how often each flag was on lately (an inflated level after a promo-heavy month).
    flag_idx = [spec.index(f) for f in spec.flags]
    flag_ctx = x[:, max(origin - w2, 0) : origin, :][:, :, flag_idx].mean(axis=1) if flag_idx else np.zeros((n, 0))
    cov_now = x[:, np.minimum(tgt, x.shape[1] - 1), :]  # (n, H, f)
    rows = np.concatenate(
        [
            np.broadcast_to(steps[None, :, None], (n, horizon, 1)),
            np.broadcast_to(series_block[:, None, :], (n, horizon, series_block.shape[1])),
            seas_last[..., None],
            seas_mean[..., None],
            yearly[..., None],
            np.broadcast_to(flag_ctx[:, None, :], (n, horizon, flag_ctx.shape[1])),
            cov_now,
        ],
        axis=-1,
    )
    return rows.reshape(n * horizon, -1).astype(np.float32), level, tgt


@dataclass
class GlobalGBM(Model):
    """One HistGradientBoostingRegressor over all series: direct multi-horizon forecasts of demand / level."""

    name: str = "gbm"
    config: GBMConfig = field(default_factory=GBMConfig)
    horizon: int = 28

    def fit(self, history, covariates=None):
        # Imported before the thread limit is set so that the limit reaches its OpenMP runtime.
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.history_, self.covariates_ = history, covariates
        y = history
        x = covariates if covariates is not None else np.zeros(y.shape + (0,), dtype=np.float32)
        n, t_len = y.shape
        h = self.horizon
        w2 = LONG_WINDOW[self.freq]
        start = np.argmax(~np.isnan(y), axis=1)
        last_origin = t_len - 1  # a training target needs at least one future period in the history
        first_origin = w2
        if last_origin <= first_origin:
            self.model_ = None
            return self
        per_origin = n * h
        candidates = np.arange(last_origin, first_origin - 1, -1)
        # Many series: keep enough origins to see the seasons and sample rows within each origin instead, so
        # the training set stays within max_rows without collapsing onto the most recent weeks.
        n_origins = min(len(candidates), max(self.config.max_rows // max(per_origin, 1), self.config.min_origins))
        stride = max(int(np.ceil(len(candidates) / max(n_origins, 1))), 1)
        origins = candidates[::stride]
        keep_share = min(1.0, self.config.max_rows / max(len(origins) * per_origin, 1))
        rng = np.random.default_rng(self.seed)
        xs, ts, ws = [], [], []
        for o in origins:
            feats, level, tgt = _origin_features(y, x, self.spec, self.freq, int(o), h)
            valid_t = tgt < t_len
            target = np.full((n, h), np.nan)
            target[:, valid_t] = y[:, tgt[valid_t]]
            ok = (~np.isnan(target)) & (start[:, None] <= o - w2)
            okf = ok.ravel()
            if keep_share < 1.0:
                okf &= rng.random(okf.shape[0]) < keep_share
            if not okf.any():
                continue
            xs.append(feats[okf])
            ts.append((target / level[:, None]).ravel()[okf])
            ws.append(np.repeat(level, h)[okf])
        if not xs:
            self.model_ = None
            return self
        X, T, W = np.concatenate(xs), np.concatenate(ts), np.concatenate(ws)
        # Constant or all-missing columns carry nothing and break histogram binning; leave them out.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.keep_ = np.nanmax(X, axis=0) > np.nanmin(X, axis=0)
        if self.spec is not None and x.shape[2] == len(self.spec.names):
            # The covariates are the last columns of a feature row; a calendar feature that can only count time
            # under a year of history is left out like a constant one.
            for j in time_index_features(self.spec, t_len, self.freq):
                self.keep_[X.shape[1] - x.shape[2] + j] = False
        X = X[:, self.keep_]
        c = self.config
        with threadpool_limits(c.threads):
            # An absolute loss on demand / level weighted by the level is the absolute loss on demand itself:
            # the model then learns the median, which is what WAPE rewards on skewed, intermittent series.
            weight = W if c.loss in ("absolute_error", "quantile") else None
            self.model_ = self._estimator(HistGradientBoostingRegressor).fit(X, np.clip(T, 0, 50), sample_weight=weight)
        return self

    def _estimator(self, cls):
        """The scikit-learn regressor with this model's settings."""
        c = self.config
        return cls(
            loss=c.loss,
            max_iter=c.max_iter,
            learning_rate=c.learning_rate,
            max_leaf_nodes=c.max_leaf_nodes,
            min_samples_leaf=c.min_samples_leaf,
            l2_regularization=c.l2_regularization,
            early_stopping=False,
            random_state=self.seed,
        )

    def point(self, horizon, future_covariates=None):
        y = self.history_
        n, t_len = y.shape
        x = self.covariates_ if self.covariates_ is not None else np.zeros(y.shape + (0,), dtype=np.float32)
        if future_covariates is not None:
            x = np.concatenate([x, future_covariates], axis=1)
        else:
            x = np.concatenate([x, np.repeat(x[:, -1:, :], horizon, axis=1)], axis=1)
        if self.model_ is None:
            return MovingAverage(freq=self.freq).fit(y).point(horizon)
        feats, level, _ = _origin_features(y, x, self.spec, self.freq, t_len, horizon)
        with threadpool_limits(self.config.threads):
            pred = self.model_.predict(feats[:, self.keep_]).reshape(n, horizon)
        return np.clip(pred, 0, None) * level[:, None]
