"""Forecasting speed and memory at scale: the engine against statsforecast AutoETS and a statsmodels loop.

Daily series of two years are resampled from real ones (Rossmann stores and the M5 items: a random real
series, shifted by whole weeks, rescaled, with Poisson noise). Each measurement runs in its own process so
that CPU seconds (user + system) and peak memory (max RSS) belong to it alone. The last 28 days are held out.
AutoETS and the statsmodels loop fit one series at a time, so at the larger sizes they run on a random sample
of series and their CPU time is scaled up linearly (such rows say so); the engine forecasts every series, and
its WAPE is pooled over that same sample so that the accuracy columns compare like with like.

    python bench/forecast_speed.py [--sizes 1000,10000,30000] [--sample 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _data  # noqa: E402

DAYS, HORIZON, SEASON = 730, 28, 7


def pool() -> np.ndarray:
    """Real daily series (rows) of at least two years: Rossmann store sales and the M5 items."""
    ross = _data.rossmann().pivot_table(index="series_id", columns="date", values="quantity", aggfunc="sum")
    ross = ross.dropna().to_numpy()[:, -DAYS:] / 100.0
    m5 = _data.m5_tiny()
    m5 = m5.pivot_table(index="series_id", columns="date", values="quantity", aggfunc="sum")
    m5 = m5.fillna(0).to_numpy()[:, -DAYS:]
    return np.vstack([ross, m5])


def resampled(n: int, seed: int = 0) -> np.ndarray:
    """n daily series resampled from the real pool (shift by whole weeks, rescale, Poisson noise)."""
    rng = np.random.default_rng(seed)
    base = pool()
    pick = rng.integers(0, len(base), n)
    shift = 7 * rng.integers(0, 8, n)
    scale = rng.lognormal(0.0, 1.0, n)
    rows = np.stack([np.roll(base[p], s) for p, s in zip(pick, shift, strict=True)])
    return rng.poisson(np.clip(rows * scale[:, None], 0, None)).astype(float)


def _wape(actual: np.ndarray, point: np.ndarray) -> float:
    return float(np.abs(actual - point).sum() / max(np.abs(actual).sum(), 1e-9))


def run_engine(y: np.ndarray, sample: np.ndarray | None = None) -> tuple[float, float]:
    """The engine's scale configuration (baselines, TSB, global gradient boosting; 3 origins): WAPE on all
    series and on the sample the per-series methods fit."""
    from forecasting.engine import ForecastConfig, forecast

    n = len(y)
    dates = pd.date_range("2013-08-01", periods=DAYS, freq="D")
    history = pd.DataFrame(
        {
            "series_id": np.repeat([f"s{i:05d}" for i in range(n)], DAYS),
            "date": np.tile(dates, n),
            "quantity": y.ravel(),
        }
    )
    config = ForecastConfig(
        horizon=HORIZON, freq="D", holdout=True, models=("seasonal_naive", "moving_average", "tsb", "gbm")
    )
    result = forecast(history, None, config)
    chosen = result.holdout[result.holdout["model"] == "chosen"].set_index("series_id")
    sub = chosen.loc[[f"s{i:05d}" for i in sample]] if sample is not None else chosen

    def pooled(frame: pd.DataFrame) -> float:
        return float(frame["abs_error_total"].sum() / max(frame["actual_total"].sum(), 1e-9))

    return pooled(chosen), pooled(sub)


def run_autoets(y: np.ndarray) -> float:
    """statsforecast AutoETS (season 7) fitted series by series."""
    from statsforecast.models import AutoETS

    train, test = y[:, :-HORIZON], y[:, -HORIZON:]
    points = np.zeros_like(test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(train):
            points[i] = AutoETS(season_length=SEASON).forecast(row, h=HORIZON)["mean"]
    return _wape(test, np.clip(points, 0, None))


def run_statsmodels(y: np.ndarray) -> float:
    """statsmodels Holt-Winters (additive weekly season) fitted series by series."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    train, test = y[:, :-HORIZON], y[:, -HORIZON:]
    points = np.zeros_like(test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(train):
            try:
                fit = ExponentialSmoothing(row, seasonal="add", seasonal_periods=SEASON).fit()
                points[i] = fit.forecast(HORIZON)
            except Exception:  # a failed fit falls back to the last week, as a planner would
                points[i] = np.tile(row[-SEASON:], HORIZON // SEASON + 1)[:HORIZON]
    return _wape(test, np.clip(points, 0, None))


METHODS = {"engine": run_engine, "statsforecast AutoETS": run_autoets, "statsmodels loop": run_statsmodels}


def worker(method: str, n: int, sample: int) -> None:
    """Child process: build the series, time one method on them (or on a sample), print JSON."""
    y = resampled(n)
    picked = np.sort(np.random.default_rng(1).choice(n, min(n, sample), replace=False))
    start = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if method == "engine":
        fitted = n
        _, wape = run_engine(y, picked)
    else:
        fitted = len(picked)
        wape = METHODS[method](y[picked])
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
    print(json.dumps({"cpu": cpu * n / fitted, "wall": time.perf_counter() - t0, "rss_mib": end.ru_maxrss / 1024,
                      "wape": wape, "fitted": fitted}))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,30000")
    p.add_argument("--sample", type=int, default=300, help="series fitted by the per-series methods at most")
    p.add_argument("--worker", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.sample)
        return
    print(f"Daily series of {DAYS} days resampled from Rossmann + M5; last {HORIZON} days held out.")
    print(f"{'series':>7}  {'method':<22} {'CPU s':>9} {'CPU/series':>10} {'peak MiB':>9} {'WAPE':>6}  note")
    for n in (int(s) for s in args.sizes.split(",")):
        rows = {}
        for method in METHODS:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", method, str(n), "--sample", str(args.sample)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows[method] = r
            note = "" if r["fitted"] == n else f"CPU scaled from {r['fitted']} series"
            print(f"{n:>7}  {method:<22} {r['cpu']:>9.1f} {r['cpu'] / n * 1000:>8.1f}ms {r['rss_mib']:>9.0f} "
                  f"{r['wape']:>6.3f}  {note}", flush=True)  # fmt: skip
        e, s = rows["engine"], rows["statsforecast AutoETS"]
        ratio = f"CPU {e['cpu'] / s['cpu']:.2f}x (target <= 1.0), WAPE {e['wape'] / s['wape']:.2f}x"
        print(f"{n:>7}  engine / AutoETS: {ratio}, peak memory {e['rss_mib'] / 1024:.2f} GiB (target <= 8)")


if __name__ == "__main__":
    main()
