"""Replenishment policy for every series of a forecast frame: per-period reorder points and order-up-to levels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from inventory.engine.policy import (
    PolicyConfig,
    PolicyLevels,
    level_candidates,
    levels_meeting_fill_rate,
    pooled_order_up_to_levels,
)

#: Per-series columns an items frame may carry to override the defaults.
ITEM_COLUMNS = ("lead_time", "moq", "pack_size", "unit_cost")
#: Quantiles worth asking the forecaster for: the tails shape the safety stock.
POLICY_QUANTILES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
_QUANTILE_COLUMN = re.compile(r"^q(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class ReplenishmentConfig:
    """Defaults for every series (an items frame overrides lead time, MOQ and pack size per series)."""

    lead_time: int = 1
    review_period: int = 1
    service_level: float = 0.95
    pack_size: int = 1
    moq: int = 1
    # The fill-rate target holds for each series, or (pooled) for the total demand of all series together,
    # with stock placed where it buys the most fill per unit of cost.
    pooled: bool = False
    # The fill rate the levels are computed for, when a calibration replay showed that the forecast's
    # quantiles overshoot (or undershoot) the service level: levels at this rate land near `service_level`.
    planning_fill: float | None = None
    # Order-up-to levels never exceed this quantile of the demand the series showed over windows as long as its
    # cover (lead time + review) in its recent history: a robust envelope against forecasts that swing high.
    envelope_level: float | None = None
    policy: PolicyConfig = field(default_factory=PolicyConfig)


@dataclass(frozen=True)
class PolicyCandidates:
    """Every series' candidate levels from one forecast frame, ready to be chosen at any fill rate."""

    series_id: np.ndarray  # one per forecast row, sorted by series then date
    date: np.ndarray
    candidates: list  # LevelCandidates per series, in order of appearance
    settings: pd.DataFrame  # lead_time, moq, pack_size, unit_cost per series
    cover_sums: list | None = None  # per series, the history's demand over every cover-long window (sorted)


def quantile_columns(frame: pd.DataFrame) -> dict[str, float]:
    """The ``qNN`` columns of a forecast frame and their levels, lowest first (``q2.5`` -> 0.025)."""
    found = {}
    for col in frame.columns:
        m = _QUANTILE_COLUMN.match(str(col))
        if m and 0 < float(m.group(1)) < 100:
            found[col] = float(m.group(1)) / 100
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def series_settings(ids: np.ndarray, config: ReplenishmentConfig, items: pd.DataFrame | None) -> pd.DataFrame:
    """Lead time, review period, MOQ, pack size and unit cost per series: the items frame over the defaults."""
    out = pd.DataFrame(
        {
            "lead_time": config.lead_time,
            "moq": config.moq,
            "pack_size": config.pack_size,
            "unit_cost": np.nan,
        },
        index=pd.Index(ids, name="series_id"),
    )
    if items is not None and len(items):
        given = items.drop_duplicates("series_id", keep="last").set_index("series_id")
        for col in ITEM_COLUMNS:
            if col in given.columns:
                values = given[col].reindex(out.index)
                out[col] = values.where(values.notna(), out[col])
    out[["lead_time", "moq", "pack_size"]] = out[["lead_time", "moq", "pack_size"]].astype(int)
    return out


def cover_window_sums(history: np.ndarray, cover: int) -> np.ndarray:
    """Sorted demand over every run of `cover` consecutive periods of a history."""
    h = np.nan_to_num(np.asarray(history, dtype=float))
    if len(h) < cover or cover < 1:
        return np.zeros(0)
    c = np.concatenate(([0.0], np.cumsum(h)))
    return np.sort(c[cover:] - c[:-cover])


def policy_candidates(
    forecast: pd.DataFrame,
    config: ReplenishmentConfig,
    items: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    window: int = 52,
) -> PolicyCandidates:
    """Candidate levels and their expected lost demand per series and period of a quantile forecast frame.

    With a `history`, each series also keeps its demand over cover-long windows of its last `window` periods
    before the forecast, for the envelope of ``config.envelope_level``.
    """
    qcols = quantile_columns(forecast)
    if len(qcols) < 2:
        raise ValueError("the forecast needs at least two quantile columns (qNN)")
    frame = forecast.sort_values(["series_id", "date"], kind="stable").reset_index(drop=True)
    ids = frame["series_id"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    settings = series_settings(ids[starts], config, items)
    q_all = frame[list(qcols)].to_numpy(dtype=float)
    levels = np.array(list(qcols.values()))
    by: dict[str, np.ndarray] = {}
    if history is not None and not history.empty:
        start = pd.Timestamp(frame["date"].min())
        past = history[pd.to_datetime(history["date"]) < start].sort_values("date", kind="stable")
        by = {str(k): g["quantity"].to_numpy(dtype=float)[-window:] for k, g in past.groupby("series_id")}
    candidates = []
    for a, b in zip(starts, ends, strict=True):
        s = settings.loc[ids[a]]
        candidates.append(
            level_candidates(
                q_all[a:b],
                levels,
                lead_time=int(s["lead_time"]),
                review_period=config.review_period,
                pack_size=int(s["pack_size"]),
                moq=int(s["moq"]),
                config=_series_policy(config.policy, by.get(ids[a])),
            )
        )
    sums = None
    if by:
        sums = [
            cover_window_sums(by.get(sid, np.zeros(0)), int(settings.loc[sid, "lead_time"]) + config.review_period)
            for sid in ids[starts]
        ]
    return PolicyCandidates(ids, frame["date"].to_numpy(), candidates, settings, sums)


#: Fewest history periods whose standard deviation may set a series' spread (``PolicyConfig.history_spread``).
MIN_SPREAD_HISTORY = 8


def _series_policy(policy: PolicyConfig, past: np.ndarray | None) -> PolicyConfig:
    """The policy for one series: with ``history_spread``, its deviation is that of its recent demand.

    A series with too little history keeps the forecaster's own spread (no deviation).
    """
    v = np.asarray(past if past is not None else [], dtype=float)
    v = v[np.isfinite(v)]
    if not policy.history_spread or len(v) < MIN_SPREAD_HISTORY:
        return policy
    return replace(policy, deviation=float(np.std(v, ddof=1)))


def choose_levels(pc: PolicyCandidates, config: ReplenishmentConfig, fill_rate: float | None = None) -> pd.DataFrame:
    """``series_id, date, reorder_point, order_up_to`` at a fill rate (default: the config's planning fill)."""
    target = fill_rate if fill_rate is not None else (config.planning_fill or config.service_level)
    if config.pooled:
        chosen = pooled_order_up_to_levels(
            pc.candidates, fill_rate=target, unit_costs=pc.settings["unit_cost"].to_numpy(dtype=float)
        )
    else:
        chosen = [levels_meeting_fill_rate(c, target) for c in pc.candidates]
    if config.envelope_level is not None and pc.cover_sums is not None:
        chosen = [
            _within(c, sums, config.envelope_level) if len(sums) else c
            for c, sums in zip(chosen, pc.cover_sums, strict=True)
        ]
    reorder = np.concatenate([c.reorder_point for c in chosen]) if chosen else np.zeros(0)
    up_to = np.concatenate([c.order_up_to for c in chosen]) if chosen else np.zeros(0)
    return pd.DataFrame({"series_id": pc.series_id, "date": pc.date, "reorder_point": reorder, "order_up_to": up_to})


def _within(levels: PolicyLevels, sums: np.ndarray, level: float) -> PolicyLevels:
    """Levels capped at a quantile of the history's cover-window demand (reorder point one below)."""
    cap = float(np.ceil(np.quantile(sums, level)))
    up_to = np.minimum(levels.order_up_to, max(cap, 1.0))
    return PolicyLevels(
        reorder_point=np.minimum(levels.reorder_point, np.maximum(up_to - 1, 0)),
        order_up_to=up_to,
        expected_cover_demand=levels.expected_cover_demand,
        safety_stock=up_to - levels.expected_cover_demand,
    )


def policy_from_forecast(
    forecast: pd.DataFrame,
    config: ReplenishmentConfig,
    items: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    window: int = 52,
) -> pd.DataFrame:
    """``series_id, date, reorder_point, order_up_to`` for every row of a quantile forecast frame.

    Each period's order-up-to level covers the demand of its lead time plus review period, drawn from the
    forecast quantiles of those periods, at the fill-rate target; periods whose cover runs past the forecast
    repeat its last period, so a caller forecasts lead time + review period beyond the periods it needs.
    """
    return choose_levels(policy_candidates(forecast, config, items, history, window), config)


def cap_by_history(
    forecast: pd.DataFrame, history: pd.DataFrame, *, window: int, headroom: float = 0.25
) -> pd.DataFrame:
    """Quantiles held inside the envelope of demand the series has shown in its last `window` periods.

    A forecast median above the largest period of the window (a promotion forecast that outruns every promoted
    period seen) scales the period's quantiles down until the median sits on that peak, and no quantile goes
    beyond the peak plus `headroom`. Overstock from a peak that does not come cannot be sent back, while a peak
    the history has shown is still stocked for; series without history in the window are left as they are.
    """
    qcols = quantile_columns(forecast)
    if not qcols or history is None or history.empty:
        return forecast
    start = pd.Timestamp(forecast["date"].min())
    past = history[pd.to_datetime(history["date"]) < start].sort_values("date", kind="stable")
    peak = past.groupby("series_id")["quantity"].apply(lambda q: float(np.nanmax(q.to_numpy()[-window:])))
    cap = forecast["series_id"].map(peak).to_numpy(dtype=float)
    q, _ = cap_quantile_rows(
        forecast[list(qcols)].to_numpy(dtype=float), np.array(list(qcols.values())), cap, headroom=headroom
    )
    return forecast.assign(**{c: q[:, k] for k, c in enumerate(qcols)})


def cap_quantile_rows(
    quantiles: np.ndarray, levels: np.ndarray, cap: np.ndarray | float, *, headroom: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Quantile rows (periods × levels) held under a demand peak; also which rows had their median scaled down.

    A row whose median is above the cap is scaled until the median sits on it; no quantile then exceeds the cap
    plus `headroom`. A cap that is missing or not positive leaves its rows as they are.
    """
    q = np.asarray(quantiles, dtype=float)
    cap = np.broadcast_to(np.asarray(cap, dtype=float), (q.shape[0],))
    mid = np.array([np.interp(0.5, levels, row) for row in q])
    known = np.isfinite(cap) & (cap > 0)
    scaled = known & (mid > cap)
    shrink = np.where(scaled, cap / np.where(mid > 0, mid, 1.0), 1.0)
    q = q * shrink[:, None]
    q = np.where(known[:, None], np.minimum(q, (1.0 + headroom) * cap[:, None]), q)
    return q, scaled
