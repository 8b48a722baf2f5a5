"""Why a series got its forecast: the chosen model, its backtest score and the largest demand drivers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

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
    effect_cols = [c for c in out.columns if c.endswith(("_lift", "_elasticity"))] + ["seasonality"]
    sizes = out[effect_cols].abs()
    out["top_driver"] = sizes.idxmax(axis=1).where(sizes.max(axis=1) > 0, "baseline_level")
    return out.reset_index()
