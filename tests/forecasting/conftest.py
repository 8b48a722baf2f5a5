"""Small synthetic histories with known answers and a fast engine configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import ForecastConfig
from forecasting.engine.models import GBMConfig

WEEKLY_PATTERN = np.array([1.0, 1.0, 1.1, 1.2, 1.8, 2.6, 0.4])


@pytest.fixture
def fast_config():
    """Baselines, TSB and a small global GBM: enough to test behaviour in seconds."""

    def make(**kw) -> ForecastConfig:
        base = dict(
            horizon=14,
            models=("seasonal_naive", "moving_average", "tsb", "gbm"),
            gbm=GBMConfig(max_iter=80, max_rows=30_000, min_samples_leaf=20),
        )
        return ForecastConfig(**{**base, **kw})

    return make


def daily_history(n_series: int = 4, days: int = 240, seed: int = 0, start: str = "2023-01-02") -> pd.DataFrame:
    """Poisson demand with a strong weekday pattern and a per-series level."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    rows = []
    for s in range(n_series):
        level = 20 + 10 * s
        lam = level * WEEKLY_PATTERN[dates.day_of_week]
        rows.append(pd.DataFrame({"series_id": f"S{s:02d}", "date": dates, "quantity": rng.poisson(lam).astype(float)}))
    return pd.concat(rows, ignore_index=True)
