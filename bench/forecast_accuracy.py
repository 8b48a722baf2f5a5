"""Forecast accuracy on real retail data: the chosen model against every candidate and classic baselines.

Each dataset's last periods are held out; the engine never sees them (``ForecastConfig.holdout``). Printed per
dataset: pooled WAPE, mean MASE and 10-90 interval coverage of the chosen forecasts, of every candidate, and
of statsforecast's AutoETS run here on the same split, then the ratio of the chosen WAPE to the best baseline
(seasonal naive, moving average, statsmodels ETS, statsforecast AutoETS).

    python bench/forecast_accuracy.py [--datasets rossmann,dominicks,online_retail,m5] [--rossmann-stores 30]
        [--windows-before K]

With ``--windows-before K`` each series loses its last K horizons first, so the scored window is one that
lies before the reported held-out periods: the place to compare engine changes without tuning on them.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _data  # noqa: E402
from forecasting.engine import ForecastConfig, forecast  # noqa: E402
from forecasting.engine.backtest import mase_scale, series_metrics  # noqa: E402
from forecasting.engine.panel import build_panel  # noqa: E402
from forecasting.engine.series import infer_freq  # noqa: E402

BASELINES = ("seasonal_naive", "moving_average", "ets", "sf_autoets")
#: 0.80x the best baseline on datasets with price or promotion drivers, 0.95x on the others. Rossmann has a
#: promo flag, Dominick's price, deal and feature, and the M5 loader passes the sell price (and an event
#: flag): all three are driver datasets. Online Retail has demand only.
TARGETS = {"rossmann": 0.80, "dominicks": 0.80, "online_retail": 0.95, "m5": 0.80}


def datasets(args: argparse.Namespace) -> dict[str, tuple[pd.DataFrame, ForecastConfig]]:
    """The benchmark datasets with their horizon and holiday country."""
    out = {}
    wanted = args.datasets.split(",")
    if "rossmann" in wanted:
        out["rossmann"] = (_data.rossmann(stores=args.rossmann_stores), ForecastConfig(horizon=28, country="DE"))
    if "dominicks" in wanted:
        out["dominicks"] = (_data.dominicks_oj(stores=args.dominicks_stores), ForecastConfig(horizon=12, country="US"))
    if "online_retail" in wanted:
        # The SKUs are ranked on the weeks before the scored ones (the holdout, or the window --windows-before
        # scores and everything after it).
        cfg = ForecastConfig(horizon=8, country="GB")
        unseen = cfg.horizon * (1 + args.windows_before)
        out["online_retail"] = (_data.online_retail_weekly(top=200, unseen=unseen), cfg)
    if "m5" in wanted:
        out["m5"] = (_data.m5_tiny(), ForecastConfig(horizon=28, country="US"))
    if args.windows_before:
        out = {k: (drop_last(h, args.windows_before * c.horizon), c) for k, (h, c) in out.items()}
    return out


def drop_last(history: pd.DataFrame, periods: int) -> pd.DataFrame:
    """Each series' history without its last `periods` periods (days or weeks, rows or not)."""
    dates = pd.to_datetime(history["date"])
    step = pd.Timedelta(days=7 if infer_freq(dates) == "W" else 1)
    cut = dates.groupby(history["series_id"]).transform("max") - periods * step
    return history[dates <= cut].reset_index(drop=True)


def autoets(y_train: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """statsforecast AutoETS per series: (series, horizon, [q10, q50, q90]) from its 80% interval and mean."""
    from statsforecast.models import AutoETS

    out = np.zeros((len(y_train), horizon, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(y_train):
            v = row[~np.isnan(row)].astype(float)
            m = season if len(v) >= 2 * season + 2 else 1
            try:
                f = AutoETS(season_length=m).forecast(v, h=horizon, level=[80])
                out[i] = np.stack([f["lo-80"], f["mean"], f["hi-80"]], axis=-1)
            except Exception:
                out[i] = np.mean(v[-28:]) if len(v) else 0.0
    return np.sort(np.clip(out, 0, None), axis=-1)


def summarise(per_series: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """Pooled WAPE, mean MASE and pooled 10-90 coverage per model."""
    d = per_series.join(scale.rename("scale"), on="series_id")
    d = d.assign(mase=d["mae"] / d["scale"], inside=d["coverage_80"] * d["n_points"])
    g = d.groupby("model")
    return pd.DataFrame(
        {
            "WAPE": g["abs_error_total"].sum() / g["actual_total"].sum(),
            "MASE": g["mase"].mean(),
            "cov10-90": g["inside"].sum() / g["n_points"].sum(),
        }
    )


def run(
    name: str, history: pd.DataFrame, config: ForecastConfig, seed: int, neural: bool = False
) -> tuple[pd.DataFrame, dict]:
    """Forecast one dataset with its holdout and score every model, including statsforecast AutoETS."""
    cfg = ForecastConfig(
        **{**config.__dict__, "holdout": True, "seed": seed, "neural": neural, "progress": lambda m: None}
    )
    t0, c0 = time.perf_counter(), time.process_time()
    result = forecast(history, None, cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    covs = [c for c in history.columns if c not in ("series_id", "date", "quantity")]
    panel = build_panel(history, history[["series_id", "date", *covs]].iloc[:0], 0, config.freq, None)
    h = config.horizon
    y_train, y_hold = panel.y[:, :-h], panel.y[:, -h:]
    t1 = time.process_time()
    sf = autoets(y_train, h, panel.season)
    sf_cpu = time.process_time() - t1
    scale = pd.Series(mase_scale(y_train, panel.season), index=panel.ids)
    m = series_metrics(y_hold[None], sf[None], scale.to_numpy())
    rows = pd.concat([result.holdout, pd.DataFrame({"series_id": panel.ids, "model": "sf_autoets", **m})])
    table = summarise(rows, scale)
    info = {
        "series": len(panel.ids),
        "periods": panel.y.shape[1],
        "freq": panel.freq,
        "horizon": h,
        "wall": wall,
        "cpu": cpu,
        "sf_cpu": sf_cpu,
        "chosen": result.chosen.value_counts().to_dict(),
        "spreads": result.spreads,
        "pools": result.pools,
        "weights": result.ensemble_weights,
        "seconds": result.seconds,
    }
    return table, info


def main() -> None:
    """Run the benchmark and print one table per dataset."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="rossmann,dominicks,online_retail,m5")
    p.add_argument("--rossmann-stores", type=int, default=30)
    p.add_argument("--dominicks-stores", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--windows-before",
        type=int,
        default=0,
        help="score the window this many horizons before the held-out periods (for comparing changes)",
    )
    p.add_argument(
        "--neural",
        default="m5",
        help="datasets on which the TensorFlow LSTM joins the candidates ('' for none)",
    )
    args = p.parse_args()
    summary = []
    for name, (history, config) in datasets(args).items():
        table, info = run(name, history, config, args.seed, neural=name in args.neural.split(","))
        # The bar is the best of the baselines the issue names, each as the textbook has it (``@centre0``: no
        # median shift) or as the engine's backtest calibrated it: both are chosen without the held-out periods.
        # A stricter bar is printed too: every baseline at whichever median shift scores best on the held-out
        # periods themselves, which no forecaster could know in advance.
        named = [b for b in table.index if b in BASELINES or (b.split("@")[0] in BASELINES and b.endswith("@centre0"))]
        base = table.loc[named, "WAPE"]
        ratio = table.loc["chosen", "WAPE"] / base.min()
        strict = table.loc[[b for b in table.index if b.split("@")[0] in BASELINES], "WAPE"]
        variants = table.loc[[i for i in table.index if "@" in i]]
        table = table.drop(variants.index)
        print(
            f"\n== {name}: {info['series']} series x {info['periods']} periods ({info['freq']}), "
            f"holdout {info['horizon']}; engine {info['wall']:.0f}s wall / {info['cpu']:.0f}s CPU, "
            f"AutoETS {info['sf_cpu']:.0f}s CPU"
        )
        order = ["chosen"] + sorted(i for i in table.index if i != "chosen")
        print(table.loc[order].to_string(float_format=lambda v: f"{v:.3f}"))
        print("backtest CPU seconds:", ", ".join(f"{k} {v:.1f}" for k, v in info["seconds"].items()))
        print("chosen per series:", ", ".join(f"{k} {v}" for k, v in info["chosen"].items()))
        if info["weights"]:
            print("ensemble weights:", ", ".join(f"{k} {v:.2f}" for k, v in info["weights"].items() if v >= 0.005))
        print(
            "bands (spread ordinary/event periods, weight of the all-series shape):",
            ", ".join(f"{k} {s[0]:.2f}/{s[1]:.2f} {info['pools'].get(k, 0):g}" for k, s in info["spreads"].items()),
        )
        print("baselines with other median shifts:", ", ".join(f"{k} {v:.3f}" for k, v in variants["WAPE"].items()))
        cov = table.loc["chosen", "cov10-90"]
        target = TARGETS.get(name, 0.95)
        ok = ratio <= target and 0.75 <= cov <= 0.85
        strict_ratio = table.loc["chosen", "WAPE"] / strict.min()
        print(
            f"stricter: chosen WAPE / best baseline at its best median shift on the held-out periods "
            f"({strict.idxmin()} {strict.min():.3f}) = {strict_ratio:.3f}"
        )
        print(
            f"chosen WAPE / best baseline ({base.idxmin()} {base.min():.3f}) = {ratio:.3f} "
            f"(target <= {target:.2f}); coverage {cov:.3f} (target 0.75-0.85): {'MET' if ok else 'MISSED'}"
        )
        summary.append((name, ratio, strict_ratio, target, cov, ok))
    print("\n== summary")
    for name, ratio, strict_ratio, target, cov, ok in summary:
        print(
            f"{name:14s} WAPE ratio {ratio:.3f} (<= {target:.2f}; stricter bar {strict_ratio:.3f})  "
            f"coverage {cov:.3f}  {'MET' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
