"""Order-up-to levels and reorder points from forecast quantiles, for a fill-rate target (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri


@dataclass(frozen=True)
class PolicyConfig:
    """How demand paths are drawn from the quantiles."""

    n_paths: int = 2000
    # Correlation of forecast errors across periods (a common level shock): sums are wider than independent draws.
    error_correlation: float = 0.3
    # Spread around the median scales with (median / the series' typical median) ** spread_power: 0 keeps the
    # forecaster's spread in every period, 1 makes it proportional to the level (promotion weeks wide, quiet
    # weeks narrow); spread_scale widens or narrows every period alike. Both come from a calibration replay.
    spread_power: float = 0.0
    spread_scale: float = 1.0
    # Relative forecast errors measured on a replay, as (quantile level, (actual − q50) / (q50 + floor)) pairs:
    # when given, they replace the forecaster's spread around each period's median.
    relative_errors: tuple[tuple[float, float], ...] | None = None
    # With measured errors, the median is recalibrated first: scale × (weight × q50 + (1 − weight) × level),
    # level the mean median over the horizon; a weight below 1 shrinks forecasts that overreact toward the level.
    median_weight: float = 1.0
    median_scale: float = 1.0
    # Spread from the demand itself: each period is q50 + deviation × z, z the normal quantile at each level, with
    # the series' own standard deviation of demand over its recent history (``history_spread``); the forecast
    # then says only where the median lies. ``deviation`` is set per series by the caller that knows the history;
    # without one the forecaster's spread stays.
    history_spread: bool = False
    deviation: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class PolicyLevels:
    """Per-period levels for one series, with what stands behind them."""

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    expected_cover_demand: np.ndarray
    safety_stock: np.ndarray


def level_floor(median: np.ndarray) -> float:
    """The floor added to a period's median before scaling errors, so zero medians keep some spread."""
    return 0.25 * float(np.mean(median)) + 0.5


def reshape_quantiles(
    quantiles: np.ndarray,
    levels: np.ndarray,
    *,
    spread_power: float = 0.0,
    spread_scale: float = 1.0,
    relative_errors: tuple[tuple[float, float], ...] | None = None,
    median_weight: float = 1.0,
    median_scale: float = 1.0,
    deviation: float | None = None,
) -> np.ndarray:
    """Period-specific quantiles: q50 + scale × (q − q50) × ((q50 + m) / (typical + m)) ** power, clipped at 0.

    Forecasters often add one residual distribution to every period's median, so a promotion week and a quiet
    week get the same spread. Scaling the spread with the period's median (typical = the median of the medians
    over the horizon, m a small floor so zero medians keep some spread) restores the usual retail shape: errors
    grow with the level.

    With a `deviation`, every period is q50 + deviation × z instead (z the standard normal quantile at each
    level): the same spread in every period, as the demand's own history shows it.
    """
    q = np.maximum.accumulate(np.clip(np.asarray(quantiles, dtype=float), 0, None), axis=1)
    if spread_power == 0.0 and spread_scale == 1.0 and relative_errors is None and deviation is None:
        return q
    levels = np.asarray(levels, dtype=float)
    mid = np.array([np.interp(0.5, levels, row) for row in q])
    if deviation is not None:
        z = ndtri(np.clip(levels, 1e-6, 1 - 1e-6))
        return np.maximum.accumulate(np.clip(mid[:, None] + deviation * z[None, :], 0, None), axis=1)
    typical = float(np.mean(mid))
    floor = level_floor(mid)
    if relative_errors is not None:
        # Measured errors around the recalibrated median, scaled by each period's own level: m + (m + floor) × z.
        mid = median_scale * (median_weight * mid + (1 - median_weight) * typical)
        at, z = (np.array(v, dtype=float) for v in zip(*relative_errors, strict=True))
        out = mid[:, None] + (mid[:, None] + floor) * np.interp(levels, at, z)[None, :]
        return np.maximum.accumulate(np.clip(out, 0, None), axis=1)
    weight = ((mid + floor) / (typical + floor)) ** spread_power
    out = mid[:, None] + spread_scale * (q - mid[:, None]) * weight[:, None]
    return np.maximum.accumulate(np.clip(out, 0, None), axis=1)


def quantile_paths(
    quantiles: np.ndarray, levels: np.ndarray, *, n_paths: int, error_correlation: float, seed: int
) -> np.ndarray:
    """Demand paths (n_paths × periods) drawn through each period's quantile function with a Gaussian copula."""
    quantiles = np.maximum.accumulate(np.clip(np.asarray(quantiles, dtype=float), 0, None), axis=1)
    levels = np.asarray(levels, dtype=float)
    periods = quantiles.shape[0]
    rng = np.random.default_rng(seed)
    rho = float(np.clip(error_correlation, 0.0, 0.999))
    common = rng.standard_normal((n_paths, 1))
    own = rng.standard_normal((n_paths, periods))
    u = ndtr(np.sqrt(rho) * common + np.sqrt(1 - rho) * own)
    # Extend the quantile function to levels 0 and 1 with the slopes of the outer quantile pairs (floored at 0).
    if len(levels) > 1:
        lo_slope = (quantiles[:, 1] - quantiles[:, 0]) / max(levels[1] - levels[0], 1e-9)
        hi_slope = (quantiles[:, -1] - quantiles[:, -2]) / max(levels[-1] - levels[-2], 1e-9)
    else:
        lo_slope = hi_slope = np.zeros(periods)
    out = np.empty_like(u)
    for t in range(periods):
        xs = np.concatenate(([0.0], levels, [1.0]))
        ys = np.concatenate(
            (
                [max(0.0, quantiles[t, 0] - lo_slope[t] * levels[0])],
                quantiles[t],
                [quantiles[t, -1] + hi_slope[t] * (1 - levels[-1])],
            )
        )
        out[:, t] = np.interp(u[:, t], xs, ys)
    return out


def expected_demand(quantiles: np.ndarray, levels: np.ndarray, config: PolicyConfig | None = None) -> np.ndarray:
    """Expected demand of each period: the mean of the demand paths drawn through its quantile function, as the
    order-up-to levels and the cover demand read them. Unlike the median it stays above zero for products that
    sell on some days only."""
    config = config or PolicyConfig()
    paths = quantile_paths(
        quantiles, levels, n_paths=config.n_paths, error_correlation=config.error_correlation, seed=config.seed
    )
    return paths.mean(axis=0)


def _expected_shortage(sums: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """E[(D − S)^+] for every S in levels, from samples of D (vectorised via sorting)."""
    d = np.sort(sums)
    tail = np.concatenate((np.cumsum(d[::-1])[::-1], [0.0]))
    idx = np.searchsorted(d, levels, side="right")
    count_above = len(d) - idx
    return (tail[idx] - levels * count_above) / len(d)


def _mean_shortage_over_lot(sums: np.ndarray, levels: np.ndarray, lot: float) -> np.ndarray:
    """Mean of E[(D − y)^+] for y uniform on [S − ½, S + lot − ½): the position after ordering in whole lots."""
    if lot <= 1:
        return _expected_shortage(sums, levels)
    d = np.sort(sums)
    n = len(d)
    s1 = np.concatenate((np.cumsum(d[::-1])[::-1], [0.0]))
    s2 = np.concatenate((np.cumsum((d * d)[::-1])[::-1], [0.0]))

    def half_second_moment(y: np.ndarray) -> np.ndarray:
        """½·E[((D − y)^+)²], the integral of the expected shortage from y upwards."""
        idx = np.searchsorted(d, y, side="right")
        return (s2[idx] - 2 * y * s1[idx] + y * y * (n - idx)) / (2 * n)

    lo = levels - 0.5
    return (half_second_moment(lo) - half_second_moment(lo + lot)) / lot


def effective_lot(cycle_demand: float, *, pack_size: int = 1, moq: int = 1) -> int:
    """Spread of the position after ordering: the minimum order if above a review's demand, else one pack."""
    pack = max(1, int(pack_size))
    minimum = max(pack, int(np.ceil(max(moq, 1) / pack - 1e-9)) * pack)
    return minimum if minimum > cycle_demand else pack


@dataclass(frozen=True)
class LevelCandidates:
    """Candidate order-up-to levels per period with the expected lost demand per review at each."""

    grid: np.ndarray  # (periods, G) candidate levels, ascending along G
    lost: np.ndarray  # (periods, G) expected lost demand per review period at each candidate
    review_demand: np.ndarray  # (periods,) expected demand of the review period
    expected_cover_demand: np.ndarray  # (periods,) expected demand over lead time + review period


def extend_periods(quantiles: np.ndarray, periods: int, season: int = 1) -> np.ndarray:
    """Quantile rows extended to at least `periods` rows by repeating the last `season` rows in turn.

    A cover that runs past the forecast's horizon needs demand for the periods beyond it. Repeating the last
    period alone would carry one weekday (a quiet Sunday, a busy Saturday) through the rest of a daily cover;
    repeating the last week keeps the weekly pattern.
    """
    q = np.asarray(quantiles, dtype=float)
    missing = periods - len(q)
    if missing <= 0 or len(q) == 0:
        return q
    last = q[-max(1, min(season, len(q))) :]
    return np.vstack([q, last[np.arange(missing) % len(last)]])


def level_candidates(
    quantiles: np.ndarray,
    levels: np.ndarray,
    *,
    lead_time: int,
    review_period: int = 1,
    pack_size: int = 1,
    moq: int = 1,
    config: PolicyConfig | None = None,
    season: int = 1,
) -> LevelCandidates:
    """Expected lost demand per review at a grid of order-up-to levels, period by period, from sample paths.

    Orders come in whole packs and at least the MOQ, so the position after ordering spreads over a lot above
    the order-up-to level; the lost demand is averaged over that spread (an (R, s, nQ) policy), which lowers
    the level by about half a lot instead of letting the rounding overshoot.
    """
    config = config or PolicyConfig()
    quantiles = np.asarray(quantiles, dtype=float)
    horizon = quantiles.shape[0]
    cover = lead_time + review_period
    quantiles = reshape_quantiles(
        quantiles,
        levels,
        spread_power=config.spread_power,
        spread_scale=config.spread_scale,
        relative_errors=config.relative_errors,
        median_weight=config.median_weight,
        median_scale=config.median_scale,
        deviation=config.deviation,
    )
    # Periods past the horizon repeat the last `season` forecast periods (the last week of a daily forecast).
    padded = extend_periods(quantiles, horizon + cover, season)
    paths = quantile_paths(
        padded, levels, n_paths=config.n_paths, error_correlation=config.error_correlation, seed=config.seed
    )
    csum = np.concatenate((np.zeros((paths.shape[0], 1)), np.cumsum(paths, axis=1)), axis=1)
    grids, losts = [], []
    # Cover and lead-time demand of every period at once (paths × periods), and their candidate grids.
    covers = csum[:, cover : cover + horizon] - csum[:, :horizon]
    leads = csum[:, lead_time : lead_time + horizon] - csum[:, :horizon]
    review = (covers - leads).mean(axis=0)
    expected_cover = covers.mean(axis=0)
    quantile_grid = np.ceil(np.quantile(covers, np.linspace(0.0, 1.0, 401), axis=0))
    for t in range(horizon):
        d_cover, d_lead = covers[:, t], leads[:, t]
        lot = effective_lot(review[t], pack_size=pack_size, moq=moq)
        grid = np.unique(quantile_grid[:, t])
        if lot > 1:
            # With wide lots the level can sit well below the cover demand: search from zero.
            top = float(np.ceil(d_cover.max()))
            grid = np.unique(np.concatenate((np.ceil(np.linspace(0.0, top, 401)), grid)))
        lost = _mean_shortage_over_lot(d_cover, grid, lot) - _mean_shortage_over_lot(d_lead, grid, lot)
        # Past the top of the sample nothing more is lost; keep the curve non-increasing against sampling noise.
        grids.append(grid)
        losts.append(np.minimum.accumulate(np.maximum(lost, 0.0)))
    width = max(len(g) for g in grids) if grids else 1
    grid_m = np.array([np.pad(g, (0, width - len(g)), mode="edge") for g in grids]).reshape(horizon, width)
    lost_m = np.array([np.pad(v, (0, width - len(v)), mode="edge") for v in losts]).reshape(horizon, width)
    return LevelCandidates(grid=grid_m, lost=lost_m, review_demand=review, expected_cover_demand=expected_cover)


def _levels(c: LevelCandidates, s_up: np.ndarray) -> PolicyLevels:
    """Policy levels from chosen order-up-to levels: reorder whenever the position is below S (s = S − 1)."""
    order_up_to = np.ceil(s_up)
    return PolicyLevels(
        reorder_point=np.maximum(order_up_to - 1, 0),
        order_up_to=order_up_to,
        expected_cover_demand=c.expected_cover_demand,
        safety_stock=order_up_to - c.expected_cover_demand,
    )


def order_up_to_levels(
    quantiles: np.ndarray,
    levels: np.ndarray,
    *,
    lead_time: int,
    review_period: int = 1,
    fill_rate: float = 0.95,
    pack_size: int = 1,
    moq: int = 1,
    config: PolicyConfig | None = None,
    season: int = 1,
) -> PolicyLevels:
    """Smallest order-up-to level per period whose expected lost demand per review meets the fill-rate target."""
    c = level_candidates(
        quantiles,
        levels,
        lead_time=lead_time,
        review_period=review_period,
        pack_size=pack_size,
        moq=moq,
        config=config,
        season=season,
    )
    return levels_meeting_fill_rate(c, fill_rate)


def levels_meeting_fill_rate(c: LevelCandidates, fill_rate: float) -> PolicyLevels:
    """The smallest candidate level per period whose expected lost demand meets the fill rate on its own."""
    allowed = (1.0 - fill_rate) * c.review_demand
    ok = c.lost <= allowed[:, None] + 1e-9
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), c.grid.shape[1] - 1)
    s_up = np.where(c.review_demand > 0, c.grid[np.arange(len(first)), first], 0.0)
    return _levels(c, s_up)


def pooled_order_up_to_levels(
    candidates: list[LevelCandidates], *, fill_rate: float = 0.95, unit_costs: np.ndarray | None = None
) -> list[PolicyLevels]:
    """Levels for many series that meet one fill rate on their total demand with the least stock value.

    Each series and period takes the level minimising cost × level + λ × expected lost demand; λ is the
    smallest price on lost demand at which the expected total fill reaches the target. Stock goes where a
    unit buys the most fill, so erratic or dear items run at lower fill than steady cheap ones.
    """
    if not candidates:
        return []
    costs = np.ones(len(candidates)) if unit_costs is None else np.asarray(unit_costs, dtype=float)
    costs = np.where(np.isfinite(costs) & (costs > 0), costs, 1.0)
    width = max(c.grid.shape[1] for c in candidates)
    grid = np.vstack([np.pad(c.grid, ((0, 0), (0, width - c.grid.shape[1])), mode="edge") for c in candidates])
    lost = np.vstack([np.pad(c.lost, ((0, 0), (0, width - c.lost.shape[1])), mode="edge") for c in candidates])
    cost = np.concatenate([np.full(len(c.review_demand), k) for c, k in zip(candidates, costs, strict=True)])
    demand = np.concatenate([c.review_demand for c in candidates])
    allowed = (1.0 - fill_rate) * demand.sum()
    rows = np.arange(len(grid))
    active = demand > 0

    def choose(log_price: float) -> np.ndarray:
        """Index of the cheapest level per row at this price on lost demand."""
        return np.argmin(cost[:, None] * grid + np.exp(log_price) * lost, axis=1)

    lo, hi = np.log(1e-6), np.log(1e9)
    for _ in range(60):
        mid = (lo + hi) / 2
        if lost[rows, choose(mid)][active].sum() <= allowed:
            hi = mid
        else:
            lo = mid
    s_up = np.where(active, grid[rows, choose(hi)], 0.0)
    out, start = [], 0
    for c in candidates:
        n = len(c.review_demand)
        out.append(_levels(c, s_up[start : start + n]))
        start += n
    return out


def textbook_levels(
    history: np.ndarray, *, lead_time: int, review_period: int, safety_factor: float
) -> tuple[float, float]:
    """The classic (s, S) from a history's mean and deviation: s = μ(L+R) + k·σ·√(L+R), S = s + μR."""
    mu = float(np.mean(history))
    sigma = float(np.std(history, ddof=1)) if len(history) > 1 else 0.0
    cover = lead_time + review_period
    s = mu * cover + safety_factor * sigma * np.sqrt(cover)
    return float(np.ceil(s)), float(np.ceil(s + mu * review_period))


def abc_xyz_classes(value: np.ndarray, cv: np.ndarray, *, abc=(0.8, 0.95), xyz=(0.5, 1.0)) -> list[str]:
    """ABC by cumulative share of value (A up to 80%, B to 95%) × XYZ by coefficient of variation."""
    value = np.asarray(value, dtype=float)
    order = np.argsort(-value)
    share = np.cumsum(value[order]) / max(value.sum(), 1e-12)
    abc_sorted = np.where(share <= abc[0] + 1e-12, "A", np.where(share <= abc[1] + 1e-12, "B", "C"))
    abc_class = np.empty(len(value), dtype=object)
    abc_class[order] = abc_sorted
    xyz_class = np.where(np.asarray(cv) <= xyz[0], "X", np.where(np.asarray(cv) <= xyz[1], "Y", "Z"))
    return [a + x for a, x in zip(abc_class, xyz_class, strict=True)]


DEFAULT_SERVICE_LEVELS = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.96, "BY": 0.95, "BZ": 0.93,
    "CX": 0.93, "CY": 0.92, "CZ": 0.90,
}  # fmt: skip
