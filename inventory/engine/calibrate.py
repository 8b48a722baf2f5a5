"""Calibration replay: the spread shape, error correlation and planning fill that meet the target on past data."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from inventory.engine.policy import level_floor
from inventory.engine.replenish import (
    PolicyCandidates,
    ReplenishmentConfig,
    choose_levels,
    policy_candidates,
    quantile_columns,
)
from inventory.engine.simulate import simulate_lost_sales

#: Spread shapes tried: the forecaster's own spread (0), proportional to the level (1); the measured relative
#: errors of the calibration periods are always tried as well.
SPREAD_POWERS = (0.0, 1.0)
#: Quantile levels at which the measured relative errors are kept.
ERROR_LEVELS = tuple(np.round(np.linspace(0.01, 0.99, 99), 2))
#: Correlations of forecast errors across the periods of one cover window.
ERROR_CORRELATIONS = (0.0, 0.3, 0.6)
#: Envelopes tried on the order-up-to level: quantiles of the history's cover-window demand (None: no cap).
ENVELOPE_LEVELS = (None, 0.9, 0.95, 0.99)
#: Standard errors of the replayed fill added to the target a calibration aims for. A planning fill that only
#: just reaches the target on the replayed periods misses it on about half of the periods that follow.
FILL_MARGIN = 1.0
#: The most the margin may add to the replayed average stock of just meeting the target (0.25: a quarter more).
#: Where the replayed fill flattens out below the raised aim (lumpy demand: a few spikes no sensible stock
#: serves), the aim is out of reach or costs a multiple of the stock; the margin then goes as far as this
#: allows instead of to the top of the planning fills.
MARGIN_STOCK = 0.25
#: A target the replay cannot reach is planned where the replayed fill comes within this many of its standard
#: errors of the best fill any planning fill reaches: the top planning fill's last bit of fill is within the
#: replay's own noise, and on lumpy demand it costs a multiple of the stock.
REACH_TOLERANCE = 0.5


@dataclass(frozen=True)
class Calibration:
    """What a calibration replay chose, and what the chosen policy achieved on the calibration periods."""

    spread: str  # "forecast", "level", "measured" or "history"
    spread_power: float
    measured: MeasuredErrors | None
    error_correlation: float
    planning_fill: float
    envelope_level: float | None
    fill_rate: float
    average_inventory: float
    tried: pd.DataFrame  # one row per (spread, error_correlation): planning fill, fill, inventory

    def apply(self, config: ReplenishmentConfig) -> ReplenishmentConfig:
        """The config with the calibrated spread shape, correlation and planning fill."""
        policy = replace(
            config.policy,
            spread_power=self.spread_power,
            error_correlation=self.error_correlation,
            history_spread=self.spread == "history",
        )
        if self.measured is not None:
            policy = replace(
                policy,
                relative_errors=self.measured.relative_errors,
                median_weight=self.measured.median_weight,
                median_scale=self.measured.median_scale,
            )
        return replace(config, policy=policy, planning_fill=self.planning_fill, envelope_level=self.envelope_level)


@dataclass(frozen=True)
class MeasuredErrors:
    """The forecast's median recalibration and relative error quantiles, measured on a replay."""

    median_weight: float
    median_scale: float
    relative_errors: tuple[tuple[float, float], ...]


def measure_errors(
    forecasts: list[pd.DataFrame], actual: pd.DataFrame, levels: tuple[float, ...] = ERROR_LEVELS
) -> MeasuredErrors | None:
    """Shrink the median toward the level (least squares) then take quantiles of the relative errors.

    Everything is divided by (level + floor) so that large series do not dominate; level is each series' mean
    median over a forecast's horizon, as :func:`inventory.engine.policy.reshape_quantiles` uses it.
    """
    parts = []
    for f in forecasts:
        qcols = quantile_columns(f)
        if len(qcols) < 2:
            continue
        at = np.array(list(qcols.values()))
        q = f[list(qcols)].to_numpy(dtype=float)
        mid = np.array([np.interp(0.5, at, row) for row in q])
        frame = f[["series_id", "date"]].assign(mid=mid)
        by = frame.groupby("series_id")["mid"]
        frame = frame.assign(level=by.transform("mean"), floor=by.transform(lambda m: level_floor(m.to_numpy())))
        parts.append(frame.merge(actual, on=["series_id", "date"]))
    if not parts:
        return None
    d = pd.concat(parts, ignore_index=True)
    d = d[np.isfinite(d["quantity"])]
    if len(d) < 20:
        return None
    # Shrink the forecast's period-to-period movements toward its level by the least-squares weight; a bias in
    # the level itself is left to the error quantiles (a calibration window's bias rarely persists).
    w = 1.0 / (d["level"] + d["floor"]).to_numpy()
    dx = (d["mid"] - d["level"]).to_numpy() * w
    dy = (d["quantity"] - d["level"]).to_numpy() * w
    weight = float(np.clip((dx * dy).sum() / max((dx * dx).sum(), 1e-12), 0.0, 1.0))
    scale = 1.0
    m = scale * (weight * d["mid"] + (1 - weight) * d["level"])
    z = ((d["quantity"] - m) / (m + d["floor"])).to_numpy(dtype=float)
    errors = tuple(zip(levels, np.quantile(z, levels).tolist(), strict=True))
    return MeasuredErrors(median_weight=weight, median_scale=scale, relative_errors=errors)


def stitch_levels(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One level per series and date from forecasts made at successive origins: the latest origin wins."""
    tagged = [f.assign(_origin=k) for k, f in enumerate(frames)]
    both = pd.concat(tagged, ignore_index=True).sort_values(["series_id", "date", "_origin"], kind="stable")
    return both.drop_duplicates(["series_id", "date"], keep="last").drop(columns="_origin").reset_index(drop=True)


def replay_levels(
    levels: pd.DataFrame, actual: pd.DataFrame, settings: pd.DataFrame, review_period: int = 1
) -> dict[str, np.ndarray]:
    """Run the lost-sales replay per series on the actual demand; served, demanded and average on hand."""
    ids = [s for s in pd.unique(actual["series_id"]) if s in settings.index]
    grid = actual[actual["series_id"].isin(ids)].pivot(index="series_id", columns="date", values="quantity")
    lv = levels.set_index(["series_id", "date"])
    idx = pd.MultiIndex.from_product([grid.index, grid.columns])
    s_lvl = lv["reorder_point"].reindex(idx).to_numpy().reshape(grid.shape)
    big_s = lv["order_up_to"].reindex(idx).to_numpy().reshape(grid.shape)
    demand = np.nan_to_num(grid.to_numpy(dtype=float))
    out = {k: np.zeros(len(grid)) for k in ("served", "demanded", "avg_inv")}
    for i, sid in enumerate(grid.index):
        if np.isnan(big_s[i]).all():
            continue
        st = settings.loc[sid]
        r = simulate_lost_sales(
            demand[i],
            np.nan_to_num(s_lvl[i]),
            np.nan_to_num(big_s[i]),
            lead_time=int(st["lead_time"]),
            review_period=review_period,
            pack_size=int(st["pack_size"]),
            moq=int(st["moq"]),
        )
        out["served"][i], out["demanded"][i], out["avg_inv"][i] = r.served, r.demanded, r.average_on_hand
    out["unit_cost"] = settings["unit_cost"].reindex(grid.index).to_numpy(dtype=float)
    return out


def _score(pcs: list[PolicyCandidates], config: ReplenishmentConfig, actual: pd.DataFrame, fill: float):
    """Fill rate, average inventory (value where unit costs exist, else units) and the fill's standard error."""
    levels = stitch_levels([choose_levels(pc, config, fill) for pc in pcs])
    r = replay_levels(levels, actual, pcs[-1].settings, config.review_period)
    demanded = r["demanded"].sum()
    cost = np.where(np.isfinite(r["unit_cost"]) & (r["unit_cost"] > 0), r["unit_cost"], 1.0)
    f = r["served"].sum() / demanded if demanded > 0 else 1.0
    # Standard error of a ratio of sums over series: how far the fill could move on another set of periods.
    se = float(np.sqrt(((r["served"] - f * r["demanded"]) ** 2).sum()) / demanded) if demanded > 0 else 0.0
    return f, float((r["avg_inv"] * cost).sum()), se


def _bisect(pcs, cfg, actual, target, fill_bounds, iterations):
    """The smallest planning fill whose replayed fill reaches `target`: (planning fill, fill, inventory, se)."""
    lo, hi = fill_bounds
    best = (hi, *_score(pcs, cfg, actual, hi))
    if best[1] < target:
        return best
    for _ in range(iterations):
        mid = (lo + hi) / 2
        got = _score(pcs, cfg, actual, mid)
        if got[0] >= target:
            hi, best = mid, (mid, *got)
        else:
            lo = mid
    return best


def _calibrated_row(pcs, cfg, actual, target, fill_bounds, iterations, margin) -> dict:
    """The planning fill that lands on the target (plus `margin` standard errors, within :data:`MARGIN_STOCK`
    more stock than the target alone needs), or near the best fill when the target is out of reach
    (:data:`REACH_TOLERANCE`), and what it achieved."""
    bare = _bisect(pcs, cfg, actual, target, fill_bounds, iterations)
    if bare[1] < target:  # out of reach: where the fill comes close to the best it gets
        bare = _bisect(pcs, cfg, actual, bare[1] - REACH_TOLERANCE * bare[3], fill_bounds, iterations)
    best = bare
    if margin > 0 and bare[1] >= target and bare[3] > 0:
        aimed = _bisect(pcs, cfg, actual, target + margin * bare[3], (bare[0], fill_bounds[1]), iterations)
        budget = bare[2] * (1 + MARGIN_STOCK)
        best = aimed if aimed[2] <= budget else _within_stock(pcs, cfg, actual, bare, aimed[0], budget, iterations)
    return {"envelope_level": cfg.envelope_level, "planning_fill": best[0], "fill": best[1], "inventory": best[2]}


def _within_stock(pcs, cfg, actual, low, high: float, budget: float, iterations: int):
    """The highest planning fill between `low` (a scored row) and `high` whose replayed stock stays within
    `budget`: (planning fill, fill, inventory, se)."""
    lo, hi, best = low[0], high, low
    for _ in range(iterations):
        mid = (lo + hi) / 2
        got = _score(pcs, cfg, actual, mid)
        if got[1] <= budget:
            lo, best = mid, (mid, *got)
        else:
            hi = mid
    return best


def _key(row: dict, target: float) -> tuple:
    """Meeting the target beats missing it; among those that meet it, less stock wins."""
    return (row["fill"] < target, row["inventory"] if row["fill"] >= target else -row["fill"])


def calibrate_policy(
    forecasts: list[pd.DataFrame],
    actual: pd.DataFrame,
    config: ReplenishmentConfig,
    items: pd.DataFrame | None = None,
    *,
    spread_powers: tuple[float, ...] = SPREAD_POWERS,
    error_correlations: tuple[float, ...] = ERROR_CORRELATIONS,
    fill_bounds: tuple[float, float] = (0.5, 0.999),
    iterations: int = 12,
    margin: float = 0.0,
    history: pd.DataFrame | None = None,
    window: int = 52,
    envelope_levels: tuple[float | None, ...] = ENVELOPE_LEVELS,
) -> Calibration:
    """Replay past periods to choose how the policy reads the forecast, so its fill lands on the target.

    `forecasts` are quantile forecasts made at successive past origins (each from history before its origin),
    `actual` the demand that followed (``series_id, date, quantity``). For every spread shape and error
    correlation, the planning fill is bisected to the smallest one whose replayed fill reaches
    ``config.service_level``; the combination that does so with the least average inventory wins. Forecasters
    whose quantiles are too wide get a planning fill below the target, too narrow ones above it. With `margin` > 0
    the target is raised by that many standard errors of the replayed fill, to meet it on most future periods
    rather than about half of them, at the cost of more stock (at most :data:`MARGIN_STOCK` more). With a
    `history`, the best combination is then replayed again with its order-up-to levels capped at each of
    `envelope_levels` (quantiles of the demand over cover-long windows of the last `window` periods before each
    origin), the planning fill bisected anew.
    """
    if not forecasts:
        raise ValueError("a calibration replay needs at least one forecast")
    target = config.service_level
    measured = measure_errors(forecasts, actual)
    shapes: list[tuple[str, float, MeasuredErrors | None]] = [
        ("forecast" if p == 0 else "level", p, None) for p in spread_powers
    ]
    if measured is not None:
        shapes.append(("measured", 0.0, measured))
    if history is not None:
        shapes.append(("history", 0.0, None))
    rows, best = [], None
    for spread, power, errors in shapes:
        for rho in error_correlations:
            policy = replace(
                config.policy, spread_power=power, error_correlation=rho, history_spread=spread == "history"
            )
            if errors is not None:
                policy = replace(
                    policy,
                    relative_errors=errors.relative_errors,
                    median_weight=errors.median_weight,
                    median_scale=errors.median_scale,
                )
            cfg = replace(config, policy=policy, envelope_level=None)
            pcs = [policy_candidates(f, cfg, items, history, window) for f in forecasts]
            row = _calibrated_row(pcs, cfg, actual, target, fill_bounds, iterations, margin)
            rows.append({"spread": spread, "spread_power": power, "measured": errors, "error_correlation": rho} | row)
            # Meeting the target beats missing it; among those that meet it, less stock wins.
            if best is None or _key(row, target) < best[0]:
                best = (_key(row, target), rows[-1], cfg, pcs)
    if best is None:
        raise ValueError("a calibration replay needs a spread shape and an error correlation to try")
    if history is not None:
        _, base, cfg, pcs = best
        for envelope in envelope_levels:
            if envelope is None:
                continue
            row = _calibrated_row(
                pcs, replace(cfg, envelope_level=envelope), actual, target, fill_bounds, iterations, margin
            )
            rows.append(base | row | {"envelope_level": envelope})
            if _key(row, target) < best[0]:
                best = (_key(row, target), rows[-1], cfg, pcs)
    chosen = best[1]
    return Calibration(
        spread=chosen["spread"],
        spread_power=chosen["spread_power"],
        measured=chosen["measured"],
        error_correlation=chosen["error_correlation"],
        planning_fill=chosen["planning_fill"],
        envelope_level=chosen.get("envelope_level"),
        fill_rate=chosen["fill"],
        average_inventory=chosen["inventory"],
        tried=pd.DataFrame(rows).drop(columns="measured"),
    )


#: Planning fills a target calibration may choose: quantiles twice or more too wide need fills well below 0.5.
PLANNING_FILL_BOUNDS = (0.2, 0.999)


@dataclass(frozen=True)
class TargetCalibration:
    """The planning fill that lands on each of several service-level targets, from one replay."""

    planning_fills: dict[float, float]  # service-level target -> planning fill
    fills: dict[float, float]  # service-level target -> fill the replay reached at that planning fill
    uncalibrated_fills: dict[float, float]  # service-level target -> fill of the replay when planned as it stands


def interpolate_planning_fill(planning_fills: dict[float, float], target: float) -> float:
    """The planning fill of any target from calibrated ones: interpolated between them, shifted beyond them."""
    if not planning_fills:
        return target
    at = np.array(sorted(planning_fills))
    pf = np.array([planning_fills[t] for t in at])
    if target <= at[0]:
        value = target + pf[0] - at[0]
    elif target >= at[-1]:
        value = target + pf[-1] - at[-1]
    else:
        value = float(np.interp(target, at, pf))
    return float(np.clip(value, PLANNING_FILL_BOUNDS[0], PLANNING_FILL_BOUNDS[1]))


def calibrate_targets(
    forecasts: list[pd.DataFrame],
    actual: pd.DataFrame,
    config: ReplenishmentConfig,
    targets: tuple[float, ...],
    items: pd.DataFrame | None = None,
    *,
    fill_bounds: tuple[float, float] = PLANNING_FILL_BOUNDS,
    iterations: int = 12,
    margin: float = 0.0,
) -> TargetCalibration:
    """For every target, the smallest planning fill whose replayed fill reaches it; the path settings stay.

    Unlike :func:`calibrate_policy` nothing but the planning fill is chosen: a replay of a few backtest windows
    is too little evidence to also pick a spread shape and an error correlation (each extra choice fits the
    windows' own accidents). With `margin` > 0 each target is raised by that many standard errors of the fill
    replayed at it, within :data:`MARGIN_STOCK` more stock, as :func:`calibrate_policy` does. Planning fills
    never fall as the target rises; a target out of reach is planned where the replay comes within
    :data:`REACH_TOLERANCE` standard errors of its best fill, and ``fills`` says how far the replay got (at the
    fill its own bisection found).
    """
    config = replace(config, envelope_level=None, planning_fill=None)
    pcs = [policy_candidates(f, config, items) for f in forecasts]
    fills, reached, raw = {}, {}, {}
    for target in sorted({float(t) for t in targets}):
        row = _calibrated_row(pcs, config, actual, target, fill_bounds, iterations, margin)
        fills[target], reached[target] = row["planning_fill"], float(row["fill"])
        raw[target] = float(_score(pcs, config, actual, target)[0])
    ordered = sorted(fills)
    monotone = np.maximum.accumulate([fills[t] for t in ordered])
    return TargetCalibration(
        planning_fills={t: float(v) for t, v in zip(ordered, monotone, strict=True)},
        fills=reached,
        uncalibrated_fills=raw,
    )
