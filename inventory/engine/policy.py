"""Order-up-to levels and reorder points from forecast quantiles, for a fill-rate target (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class PolicyConfig:
    """How demand paths are drawn from the quantiles."""

    n_paths: int = 2000
    # Correlation of forecast errors across periods (a common level shock): sums are wider than independent draws.
    error_correlation: float = 0.3
    seed: int = 0


@dataclass(frozen=True)
class PolicyLevels:
    """Per-period levels for one series, with what stands behind them."""

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    expected_cover_demand: np.ndarray
    safety_stock: np.ndarray


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
    u = norm.cdf(np.sqrt(rho) * common + np.sqrt(1 - rho) * own)
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


def _expected_shortage(sums: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """E[(D − S)^+] for every S in levels, from samples of D (vectorised via sorting)."""
    d = np.sort(sums)
    tail = np.concatenate((np.cumsum(d[::-1])[::-1], [0.0]))
    idx = np.searchsorted(d, levels, side="right")
    count_above = len(d) - idx
    return (tail[idx] - levels * count_above) / len(d)


def order_up_to_levels(
    quantiles: np.ndarray,
    levels: np.ndarray,
    *,
    lead_time: int,
    review_period: int = 1,
    fill_rate: float = 0.95,
    config: PolicyConfig | None = None,
) -> PolicyLevels:
    """Smallest order-up-to level per period whose expected lost demand per cycle meets the fill-rate target."""
    config = config or PolicyConfig()
    quantiles = np.asarray(quantiles, dtype=float)
    horizon = quantiles.shape[0]
    cover = lead_time + review_period
    # Periods past the horizon repeat the last forecast period.
    padded = np.vstack([quantiles, np.repeat(quantiles[-1:], cover, axis=0)])
    paths = quantile_paths(
        padded, levels, n_paths=config.n_paths, error_correlation=config.error_correlation, seed=config.seed
    )
    csum = np.concatenate((np.zeros((paths.shape[0], 1)), np.cumsum(paths, axis=1)), axis=1)
    s_up = np.zeros(horizon)
    expected_cover = np.zeros(horizon)
    for t in range(horizon):
        d_cover = csum[:, t + cover] - csum[:, t]
        d_lead = csum[:, t + lead_time] - csum[:, t]
        cycle_demand = float((d_cover - d_lead).mean())
        expected_cover[t] = float(d_cover.mean())
        allowed = (1.0 - fill_rate) * cycle_demand
        if cycle_demand <= 0:
            continue
        grid = np.unique(np.ceil(np.quantile(d_cover, np.linspace(0.0, 1.0, 401))))
        lost = _expected_shortage(d_cover, grid) - _expected_shortage(d_lead, grid)
        ok = np.nonzero(lost <= allowed + 1e-9)[0]
        s_up[t] = grid[ok[0]] if len(ok) else grid[-1]
    order_up_to = np.ceil(s_up)
    reorder_point = np.maximum(order_up_to - 1, 0)
    return PolicyLevels(
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        expected_cover_demand=expected_cover,
        safety_stock=order_up_to - expected_cover,
    )


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
