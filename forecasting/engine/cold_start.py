"""Forecasts for series with too little history, borrowed from similar established series."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cold_start_quantiles(
    y: np.ndarray,
    cold: np.ndarray,
    quantiles_cube: np.ndarray,
    level: np.ndarray,
    ids: np.ndarray,
    attributes: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantile forecasts for the `cold` series from the scaled forecast profiles of similar established series.

    Similar series share the first attribute column with the new one (a category, a price band); without
    attributes, or when no established series shares it, the pooled profile of all established series is used.
    The profile (forecast / level, per horizon step and quantile) is scaled by the new series' own mean demand
    when it has sold anything yet, otherwise by the median level of its peers. Returns the cube and the peer
    group used per series ("all" for the pooled profile).
    """
    out = quantiles_cube.copy()
    groups = np.full(len(ids), "", dtype=object)
    warm = ~cold
    if not cold.any() or not warm.any():
        return out, groups
    with np.errstate(all="ignore"):
        profile = quantiles_cube / np.where(level > 0, level, np.nan)[:, None, None]
    key = None
    if attributes is not None and len(attributes.columns) > 1:
        attr = attributes.assign(series_id=attributes["series_id"].astype(str)).set_index("series_id")
        key = attr.reindex(ids)[attr.columns[0]].astype(str).to_numpy()
    with np.errstate(all="ignore"):
        own = np.nanmean(np.where(np.isnan(y), np.nan, y), axis=1)
    for i in np.flatnonzero(cold):
        peers = warm & (level > 0)
        group = "all"
        if key is not None and key[i] != "nan":
            same = peers & (key == key[i])
            if same.any():
                peers, group = same, str(key[i])
        if not peers.any():
            continue
        prof = np.nanmedian(profile[peers], axis=0)
        lvl = own[i] if np.isfinite(own[i]) and own[i] > 0 else float(np.median(level[peers]))
        out[i] = np.nan_to_num(prof * lvl)
        groups[i] = group
    return np.sort(np.clip(out, 0.0, None), axis=-1), groups
