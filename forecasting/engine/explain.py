"""Why a series got its forecast: the chosen model, its backtest score and the largest demand drivers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecasting.engine.models import fill_gaps
from forecasting.engine.panel import LONG_WINDOW, Panel


def driver_effects(panel: Panel) -> pd.DataFrame:
    """Per-series baseline level, seasonal amplitude, promotion lifts and price elasticity from the history."""
    y = panel.y
    n, t_len = y.shape
    w2 = LONG_WINDOW[panel.freq]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmean(y[:, -w2:], axis=1)
        out: dict[str, np.ndarray] = {"baseline_level": np.nan_to_num(level)}
        if panel.freq == "D":
            dow = panel.x[:, :t_len, panel.spec.index("dow")]
            recent = slice(max(t_len - 8 * 7, 0), t_len)
            prof = np.stack(
                [np.nanmean(np.where(dow[:, recent] == d, y[:, recent], np.nan), axis=1) for d in range(7)], axis=1
            )
            out["seasonality"] = np.nan_to_num((np.nanmax(prof, axis=1) - np.nanmin(prof, axis=1)) / level)
            out["peak_weekday"] = np.nan_to_num(np.nanargmax(np.nan_to_num(prof, nan=-1), axis=1).astype(float))
        else:
            out["seasonality"] = np.nan_to_num(np.nanstd(y[:, -52:], axis=1) / level)
        for f in panel.spec.flags:
            flag = panel.x[:, :t_len, panel.spec.index(f)] > 0.5
            on = np.nanmean(np.where(flag, y, np.nan), axis=1)
            off = np.nanmean(np.where(~flag, y, np.nan), axis=1)
            enough = (flag & ~np.isnan(y)).sum(axis=1) >= 3
            out[f"{f}_lift"] = np.where(enough & (off > 0), on / off - 1.0, 0.0)
        for p in panel.spec.prices:
            rel = panel.x[:, :t_len, panel.spec.index(f"{p}__rel")].astype(float)
            ok = (~np.isnan(y)) & (y > 0) & (rel > 0)
            lx = np.where(ok, np.log(np.where(rel > 0, rel, 1.0)), np.nan)
            ly = np.where(ok, np.log(np.where(y > 0, y, 1.0)), np.nan)
            mx, my = np.nanmean(lx, axis=1, keepdims=True), np.nanmean(ly, axis=1, keepdims=True)
            cov = np.nansum((lx - mx) * (ly - my), axis=1)
            var = np.nansum((lx - mx) ** 2, axis=1)
            out[f"{p}_elasticity"] = np.where(var > 1e-6, cov / np.where(var > 1e-6, var, 1.0), 0.0)
    return pd.DataFrame({"series_id": panel.ids, **out})


#: A run of periods without sales at the end of a history is flagged when the series' own share of periods without
#: sales before it makes a run that long less likely than this: the item has most likely stopped selling (out of
#: stock, delisted, a broken feed) and its forecast needs a look first.
STOPPED_CHANCE = 1e-3


def sales_stopped(y: np.ndarray, freq: str, chance: float = STOPPED_CHANCE) -> tuple[np.ndarray, np.ndarray]:
    """Per series: the periods without sales since its last sale where such a run is improbable (else 0), and the
    mean demand per period over the window before that last sale (0 where nothing is flagged).

    A run of r periods is improbable when p0 ** r < `chance`, p0 the share of periods without sales in the last
    ``4 × LONG_WINDOW`` observed periods up to the last sale (with one sale and one zero period added, so a series
    that never missed a period still needs two empty ones in a row). Missing periods count neither way; a series
    needs ``LONG_WINDOW`` observed periods before its last sale to be judged at all.
    """
    y = np.asarray(y, dtype=float)
    n, t_len = y.shape
    window, needed = 4 * LONG_WINDOW[freq], LONG_WINDOW[freq]
    observed = ~np.isnan(y)
    sale = observed & (y > 0)
    empty = observed & ~sale
    has_sale = sale.any(axis=1)
    last = np.where(has_sale, t_len - 1 - np.argmax(sale[:, ::-1], axis=1), 0)
    rows = np.arange(n)
    # Running totals per series (a leading 0 column): the count over periods [a, b) is c[b] - c[a].
    c_empty, c_seen, c_units = (
        np.concatenate((np.zeros((n, 1)), np.cumsum(a, axis=1)), axis=1)
        for a in (empty.astype(float), observed.astype(float), np.where(observed, y, 0.0))
    )
    end, start = last + 1, np.maximum(last + 1 - window, 0)
    run = c_empty[:, -1] - c_empty[rows, end]
    seen = c_seen[rows, end] - c_seen[rows, start]
    zeros = c_empty[rows, end] - c_empty[rows, start]
    units = c_units[rows, end] - c_units[rows, start]
    p0 = (zeros + 1) / (seen + 2)
    with np.errstate(divide="ignore"):
        flagged = has_sale & (seen >= needed) & (run >= 2) & (run * np.log(p0) < np.log(chance))
    rate = np.where(flagged, units / np.maximum(seen, 1), 0.0)
    return np.where(flagged, run, 0).astype(int), rate


def unobserved_demand(y: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series: unobserved periods after its start, those among the last 4 × LONG_WINDOW periods, and the
    demand those recent ones likely held (the gap filling of :func:`fill_gaps`: what went unsold for want of
    stock, estimated from the same weekday of the weeks before)."""
    observed = ~np.isnan(y)
    gaps = (np.cumsum(observed, axis=1) > 0) & ~observed
    window = 4 * LONG_WINDOW[freq]
    recent = gaps[:, -window:]
    filled = np.nan_to_num(fill_gaps(y, freq)[:, -window:])
    return gaps.sum(axis=1), recent.sum(axis=1), np.where(recent, filled, 0.0).sum(axis=1)


def explain(panel: Panel, chosen: pd.Series, metrics: pd.DataFrame, cold: np.ndarray) -> pd.DataFrame:
    """One row per series: model, backtest WAPE/MASE/coverage, drivers and the top driver by size."""
    drivers = driver_effects(panel)
    m = metrics.merge(chosen.rename("chosen").reset_index(), on="series_id")
    m = m[m["model"] == m["chosen"]].set_index("series_id")
    out = drivers.set_index("series_id")
    out.insert(0, "model", chosen.reindex(out.index))
    for c in ("wape", "mase", "coverage_80", "bias"):
        out.insert(1, f"backtest_{c}", m[c].reindex(out.index))
    out["cold_start"] = cold
    gaps, recent, lost = unobserved_demand(panel.y, panel.freq)
    out["unobserved_periods"] = gaps
    out["recent_unobserved_periods"] = recent
    out["lost_demand"] = lost
    stopped, before = sales_stopped(panel.y, panel.freq)
    out["sales_stopped_periods"] = stopped
    out["demand_before_stop"] = before
    effect_cols = [c for c in out.columns if c.endswith(("_lift", "_elasticity"))] + ["seasonality"]
    sizes = out[effect_cols].abs()
    out["top_driver"] = sizes.idxmax(axis=1).where(sizes.max(axis=1) > 0, "baseline_level")
    return out.reset_index()
