"""Forecasts for series with too little history, borrowed from similar established series."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fewest established series a profile is borrowed from: the median of fewer is one series' accident (a slow
#: seller whose band is a hundred times its recent level would set every new product's band).
MIN_PEERS = 3


def cold_start_quantiles(
    y: np.ndarray,
    cold: np.ndarray,
    quantiles_cube: np.ndarray,
    level: np.ndarray,
    ids: np.ndarray,
    attributes: pd.DataFrame | None = None,
    since_start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantile forecasts for the `cold` series from the scaled forecast profiles of similar established series.

    Similar series share the first attribute column with the new one (a category, a price band); without
    attributes, or when fewer than :data:`MIN_PEERS` established series share it, the pooled profile of all
    established series is used; with fewer than that in all, the series keeps its own forecast. Of those, the
    profile is the median of the quarter (at least :data:`MIN_PEERS`) that sell on a share of periods closest
    to the new series'. `y` holds the periods `level` was measured over (each series' mean over them, NaN
    before a series' start). The profile (forecast / level, per horizon step and quantile) is scaled by the new
    series' own level when it sold in those periods; when it sold only before them, by `since_start` (its mean
    over all its history): a product that sold one unit in 40 days has shown what it sells, and the peers' level
    would have it forecast like a best seller. Only a series that has not sold at all takes the median level of
    its peers. Returns the cube and the peer group used per series ("all" for the pooled profile).
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
        # A median forecast is a smaller share of the mean the more periods go without a sale (about a fifth
        # for a product selling on a quarter of days, over half for one selling on most): a product selling
        # daily must not borrow the ratio of slow, lumpy sellers.
        selling = np.nan_to_num(np.nanmean(np.where(np.isnan(y), np.nan, y > 0), axis=1))
    for i in np.flatnonzero(cold):
        peers = warm & (level > 0)
        group = "all"
        if key is not None and key[i] != "nan":
            same = peers & (key == key[i])
            if same.sum() >= MIN_PEERS:
                peers, group = same, str(key[i])
        if peers.sum() < MIN_PEERS:
            continue
        if level[i] > 0:
            lvl = float(level[i])
        elif since_start is not None and since_start[i] > 0:
            lvl = float(since_start[i])
        else:
            lvl = float(np.median(level[peers]))
        idx = np.flatnonzero(peers)
        nearest = idx[np.argsort(np.abs(selling[idx] - selling[i]), kind="stable")[: max(MIN_PEERS, len(idx) // 4)]]
        prof = np.nanmedian(profile[nearest], axis=0)
        out[i] = np.nan_to_num(prof * lvl)
        groups[i] = group
    return np.sort(np.clip(out, 0.0, None), axis=-1), groups
