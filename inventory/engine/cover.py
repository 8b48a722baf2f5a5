"""How long stock lasts against a demand forecast (pure numpy)."""

from __future__ import annotations

import numpy as np


def days_of_cover(daily_demand: np.ndarray, stock: float) -> float | None:
    """Days until the cumulative daily demand passes `stock`, interpolated within the day it runs out: the first
    day with demand when there is no stock; None when the stock outlasts the demand given (the look-ahead, or a
    forecast of no demand at all). The demand is per day from the first day on; negative values count as none.
    """
    stock = max(float(stock), 0.0)
    demand = np.clip(np.asarray(daily_demand, dtype=float), 0.0, None)
    used = np.cumsum(demand)
    day = int(np.searchsorted(used, stock, side="right"))
    if day >= len(used):
        return None
    before = used[day - 1] if day else 0.0
    return day + (stock - before) / demand[day]


def daily_from_periods(values: np.ndarray, period_days: int) -> np.ndarray:
    """Per-day demand of a forecast given per period: each period's value spread evenly over its days."""
    values = np.asarray(values, dtype=float)
    return np.repeat(values / period_days, period_days) if period_days > 1 else values
