"""A panel of demand series: right-aligned arrays so that every model works on all series at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.engine.features import (
    FeatureSpec,
    calendar_features,
    classify_covariates,
    event_periods,
    price_features,
)
from forecasting.engine.series import complete_history, infer_freq, period_start, week_anchor

SEASON = {"D": 7, "W": 52}
SHORT_WINDOW = {"D": 7, "W": 4}
LONG_WINDOW = {"D": 28, "W": 13}


class MissingCovariateError(ValueError):
    """A covariate the history has is missing from the future frame."""


@dataclass
class Panel:
    """Series on a shared right-aligned grid: column ``n_hist - 1`` is every series' last history period."""

    ids: np.ndarray  # (n,) series ids as strings
    y: np.ndarray  # (n, T) demand, NaN before a series' first period
    dates: np.ndarray  # (n, T + H) period dates, history then horizon
    x: np.ndarray  # (n, T + H, f) features, float32
    spec: FeatureSpec
    freq: str
    horizon: int

    @property
    def n_hist(self) -> int:
        """Number of history columns."""
        return self.y.shape[1]

    @property
    def events(self) -> np.ndarray:
        """(n, T + H) True in periods where an occasional driver (promotion, holiday, price cut) is on."""
        return event_periods(self.x, self.spec, self.n_hist)

    @property
    def season(self) -> int:
        """Seasonal period in periods (7 days or 52 weeks)."""
        return SEASON[self.freq]

    @property
    def start(self) -> np.ndarray:
        """Column of each series' first period."""
        return np.argmax(~np.isnan(self.y), axis=1)

    @property
    def length(self) -> np.ndarray:
        """Number of history periods per series."""
        return self.n_hist - self.start

    def subset(self, rows: np.ndarray) -> Panel:
        """The panel restricted to some series."""
        return Panel(self.ids[rows], self.y[rows], self.dates[rows], self.x[rows], self.spec, self.freq, self.horizon)


def build_panel(
    history: pd.DataFrame,
    future: pd.DataFrame | None,
    horizon: int,
    freq: str | None = None,
    country: str | None = None,
) -> Panel:
    """Build a panel from a long history (``series_id, date, quantity[, covariates]``) and future covariates."""
    history = history.assign(series_id=history["series_id"].astype(str), date=pd.to_datetime(history["date"]))
    freq = freq or infer_freq(history["date"])
    anchor = week_anchor(history["date"]) if freq == "W" else 0
    covs = [c for c in history.columns if c not in ("series_id", "date", "quantity")]
    if future is None and covs:
        # Covariates without known future values cannot drive a forecast; they are left out.
        history, covs = history[["series_id", "date", "quantity"]], []
    full = complete_history(history, freq, anchor)
    ids, inv, counts = np.unique(full["series_id"].to_numpy(), return_inverse=True, return_counts=True)
    n, t_len = len(ids), int(counts.max()) if len(counts) else 0
    order = np.argsort(inv, kind="stable")
    full = full.iloc[order].reset_index(drop=True)
    inv = inv[order]
    within = np.arange(len(full)) - np.repeat(np.cumsum(counts) - counts, counts)
    col = t_len - np.repeat(counts, counts) + within
    y = np.full((n, t_len), np.nan)
    y[inv, col] = full["quantity"].to_numpy(dtype=float)
    step = np.timedelta64(7 if freq == "W" else 1, "D")
    last = full.groupby(inv)["date"].max().to_numpy().astype("datetime64[ns]")
    offsets = np.arange(-t_len + 1, horizon + 1)
    dates = last[:, None] + offsets[None, :] * step
    total = t_len + horizon

    cov_raw = np.zeros((n, total, len(covs)), dtype=np.float64)
    if covs:
        cov_raw[:] = np.nan
        cov_raw[inv, col] = full[covs].to_numpy(dtype=float)
        assert future is not None  # covariates without a future frame were dropped above
        fut = future.assign(series_id=future["series_id"].astype(str))
        fut = fut.assign(date=period_start(fut["date"], freq, anchor).to_numpy())
        missing = [c for c in covs if c not in fut.columns]
        if missing:
            raise MissingCovariateError(f"future covariates lack column {missing[0]}")
        fut = fut.groupby(["series_id", "date"], as_index=False)[covs].last()
        key = pd.DataFrame({"series_id": np.repeat(ids, horizon), "date": dates[:, t_len:].ravel()})
        merged = key.merge(fut, on=["series_id", "date"], how="left")
        cov_raw[:, t_len:, :] = merged[covs].to_numpy(dtype=float).reshape(n, horizon, len(covs))
        # Carry the last known value forward where a period is missing (a price holds until it changes).
        for j in range(len(covs)):
            cov_raw[:, :, j] = pd.DataFrame(cov_raw[:, :, j].T).ffill().bfill().fillna(0.0).to_numpy().T

    cal = calendar_features(dates, freq, country)
    names: list[str] = list(cal)
    blocks = [cal[k] for k in names]
    prices, flags, numerics = classify_covariates(full, covs) if covs else ([], [], [])
    derived: dict[str, str] = {}
    for j, c in enumerate(covs):
        if c in prices:
            rel, depth = price_features(cov_raw[:, :, j], t_len)
            names += [f"{c}__rel", f"{c}__depth"]
            blocks += [rel, depth]
            derived[f"{c}__rel"] = derived[f"{c}__depth"] = c
        else:
            names.append(c)
            blocks.append(cov_raw[:, :, j].astype(np.float32))
    x = np.stack(blocks, axis=-1).astype(np.float32) if blocks else np.zeros((n, total, 0), dtype=np.float32)
    spec = FeatureSpec(
        names=tuple(names),
        calendar=tuple(cal),
        prices=tuple(prices),
        flags=tuple(flags),
        numerics=tuple(numerics),
        derived=derived,
    )
    return Panel(ids=ids, y=y, dates=dates, x=x, spec=spec, freq=freq, horizon=horizon)
