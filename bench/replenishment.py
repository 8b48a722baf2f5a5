"""Replenishment on real retail data: forecast-quantile policy against a textbook (s, S) at the same fill rate.

The last periods of each dataset are replayed with the lost-sales simulation of CONTRACTS.md
(``inventory.engine.simulate.simulate_lost_sales``), review every period. The project's policy re-forecasts
at a rolling origin every ``step`` periods (forecasting engine, future covariates known as planned) and takes
its levels from the quantiles (``inventory.engine.replenish.policy_from_forecast``). How it reads the quantiles
(spread shape, which may be the series' own deviation of demand over the last year; error correlation; the
planning fill that lands on the target) is chosen beforehand by a
calibration replay of the same length just before the replay window, with forecasts made then
(``inventory.engine.calibrate.calibrate_policy``); the replay window is never used to tune it. The textbook policy sets
s = μ(L+R) + kσ√(L+R), S = s + μR from the year of history before the replay; its safety factor k is found by
bisection so that its aggregate fill rate equals the project's. Two more rows replay what the app's suggestions do
(``inventory.calibration``): per series, from the forecasts' P10/P50/P90 only, planned at the fill that a replay of
each origin's own backtest windows reaches the target with, as each night's run calibrates on its own
("app"), and read as they stand
("app, uncalibrated"). Printed per dataset: fill rate, average
inventory (units, and value where prices exist), stockout periods and orders for both, and the ratio of
average inventory (project / textbook).

On datasets with promotion flags (Rossmann's promo, Dominick's deal and feature) a reference row shows what the
promotion calendar alone is worth: a "calendar textbook" whose cover demand adds up the year's mean and variance
of promoted and of other periods as each period of the cover is planned, its k tuned on the replay to the same
fill like the textbook's. It is a bound on what knowing when promotions run buys a history-based policy, not a
policy the project could run: its safety factor is fitted on the very periods it is scored on.

A second reference row, on every dataset, bounds what the forecast's medians are worth to such a policy: a
"median textbook" whose cover demand is the sum of the engine's median forecasts over the cover (the same
forecasts, made at the same origins, as the project's rows), its spread the year's deviation of demand as the
textbook's, and its k fitted on the replay to the same fill. Where even it stays above the target ratio, the
medians do not carry the information the target asks for, however their quantiles are read.

    python bench/replenishment.py [--datasets rossmann,online_retail,dominicks] [--service-level 0.95]
        [--windows-before K]

With ``--windows-before K`` the data ends K replay lengths before its end, so the replay (and the calibration
before it) lies that much earlier: the place to see how much a result owes to one window.
``bench/replenishment_windows.py`` shows that for Dominick's across six windows at once, with the textbook's
hindsight safety factor and a price-driven reference.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _data  # noqa: E402
from forecasting.engine import ForecastConfig, forecast  # noqa: E402
from forecasting.engine.series import complete_history  # noqa: E402
from inventory.engine.calibrate import (  # noqa: E402
    FILL_MARGIN,
    TargetCalibration,
    calibrate_policy,
    calibrate_targets,
    stitch_levels,
)
from inventory.engine.policy import textbook_levels  # noqa: E402
from inventory.engine.replenish import (  # noqa: E402
    POLICY_QUANTILES,
    ReplenishmentConfig,
    cap_by_history,
    policy_from_forecast,
)
from inventory.engine.simulate import simulate_lost_sales  # noqa: E402

MODELS = ("seasonal_naive", "moving_average", "tsb", "gbm")
#: Dominick's OJ pack sizes in ounces, by brand code (the prices are per ounce).
OJ_OUNCES = {1: 64, 2: 96, 3: 64, 4: 64, 5: 64, 6: 96, 7: 64, 8: 64, 9: 64, 10: 64, 11: 128}


@dataclass(frozen=True)
class Setup:
    """One dataset's replay: where it starts, how long, the lead time and how often the forecast is re-made."""

    name: str
    freq: str
    replay: int
    lead_time: int
    step: int
    country: str
    history_year: int
    calibration: int  # periods of the calibration replay just before the replay window
    promotions: tuple[str, ...] = ()  # the dataset's promotion flags (for the calendar reference)


SETUPS = {
    "rossmann": Setup("rossmann", "D", 84, 7, 28, "DE", 364, 84, ("promo",)),
    "online_retail": Setup("online_retail", "W", 8, 2, 4, "GB", 52, 8),
    "dominicks": Setup("dominicks", "W", 13, 2, 4, "US", 52, 13, ("deal", "feat")),
}


def load(name: str, args: argparse.Namespace) -> tuple[pd.DataFrame, pd.Series | None]:
    """The dataset's history (CONTRACTS shape) and a unit value per series where prices exist."""
    if name == "rossmann":
        df = _data.rossmann()
        # Stores with the 2014 refurbishment gap would show half a year of zero demand; keep complete stores.
        days = df.groupby("series_id")["date"].nunique()
        keep = sorted(days[days == days.max()].index, key=int)[: args.rossmann_stores]
        return df[df["series_id"].isin(keep)].reset_index(drop=True), None
    if name == "online_retail":
        # The top SKUs by volume before the replay: choosing by total volume would pick SKUs for the very
        # spikes the replay then has to serve.
        df = _data.online_retail_weekly(
            top=args.online_retail_top, unseen=SETUPS[name].replay * (1 + args.windows_before)
        )
        return df, online_retail_prices(df["series_id"].unique())
    if name == "dominicks":
        df = _data.dominicks_oj(stores=args.dominicks_stores)
        brand = df["series_id"].str.split("-").str[1].astype(int)
        value = (df["price"] * brand.map(OJ_OUNCES)).groupby(df["series_id"]).median()
        return df, value
    raise ValueError(f"unknown dataset {name}")


def online_retail_prices(ids: np.ndarray) -> pd.Series:
    """Median unit price (GBP) of each Online Retail SKU over its sale lines."""
    raw = pd.read_csv(
        _data.SHARED_DATA / "uci_online_retail" / "online_retail_2010-12_2011-12.csv.gz",
        dtype={"InvoiceNo": str, "StockCode": str},
        usecols=["InvoiceNo", "StockCode", "Quantity", "UnitPrice"],
    )
    sale = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] > 0) & ~raw["InvoiceNo"].str.startswith("C")]
    return sale[sale["StockCode"].isin(ids)].groupby("StockCode")["UnitPrice"].median()


def forecasts_at_origins(
    history: pd.DataFrame, dates: np.ndarray, setup: Setup, cfg: ReplenishmentConfig, args: argparse.Namespace
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Quantile forecasts made every `step` periods over `dates`, each from the history before its origin; and
    each origin's backtest windows, out of sample (what the app calibrates that run's suggestions on)."""
    covs = [c for c in history.columns if c not in ("series_id", "date", "quantity")]
    out, backtests = [], []
    for o in range(0, len(dates), setup.step):
        step = min(setup.step, len(dates) - o)
        horizon = step + cfg.lead_time + cfg.review_period
        origin = pd.Timestamp(dates[o])
        path = bt_path = None
        if args.cache:
            # The series (Online Retail picks its SKUs by a cut that --windows-before moves) and, for a horizon that
            # runs past the data, where the data ends (the covariates it can read) decide a forecast too.
            ids = "\n".join(sorted(map(str, history["series_id"].unique())))
            digest = hashlib.sha1(ids.encode()).hexdigest()[:10]
            end = pd.Timestamp(history["date"].max())
            reach = origin + pd.Timedelta(days=(7 if setup.freq == "W" else 1) * (horizon - 1))
            past_end = f"-to{end.date()}" if reach > end else ""
            key = f"{setup.name}-{origin.date()}-h{horizon}-{digest}{past_end}-s{args.seed}"
            path, bt_path = Path(args.cache) / f"{key}.pkl", Path(args.cache) / f"{key}-origins.pkl"
            if path.exists() and bt_path.exists():
                out.append(pd.read_pickle(path))
                backtests.append(pd.read_pickle(bt_path))
                continue
        past = history[history["date"] < origin]
        future = history[history["date"] >= origin][["series_id", "date", *covs]] if covs else None
        fcfg = ForecastConfig(
            horizon=horizon,
            freq=setup.freq,
            quantiles=POLICY_QUANTILES,
            seed=args.seed,
            country=setup.country,
            models=MODELS,
        )
        result = forecast(past, future, fcfg)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            result.forecast.to_pickle(path)
            result.backtest.to_pickle(bt_path)
        out.append(result.forecast)
        backtests.append(result.backtest)
        print(f"  origin {origin.date()}: forecast {horizon} periods", file=sys.stderr)
    return out, backtests


def level_matrices(
    forecasts: list[pd.DataFrame],
    cfg: ReplenishmentConfig | list[ReplenishmentConfig],
    ids: np.ndarray,
    dates: np.ndarray,
    demand_history: pd.DataFrame,
    window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder points and order-up-to levels (series x replay period) from the forecasts of successive origins,
    planned with one config or with each origin's own."""
    cfgs = cfg if isinstance(cfg, list) else [cfg] * len(forecasts)
    levels = stitch_levels(
        [policy_from_forecast(f, c, None, demand_history, window) for f, c in zip(forecasts, cfgs, strict=True)]
    )
    idx = pd.MultiIndex.from_product([ids, pd.DatetimeIndex(dates)])
    lv = levels.assign(date=pd.to_datetime(levels["date"])).set_index(["series_id", "date"])
    shape = (len(ids), len(dates))
    s_lvl = lv["reorder_point"].reindex(idx).to_numpy(dtype=float).reshape(shape)
    big_s = lv["order_up_to"].reindex(idx).to_numpy(dtype=float).reshape(shape)
    return np.nan_to_num(s_lvl), np.nan_to_num(big_s)


def replay(demand: np.ndarray, s_lvl: np.ndarray, big_s: np.ndarray, lead_time: int) -> dict[str, np.ndarray]:
    """Run the CONTRACTS simulation for every series; per-series served, demanded, average inventory, counts."""
    out = {k: np.zeros(len(demand)) for k in ("served", "demanded", "avg_inv", "stockouts", "orders")}
    for i in range(len(demand)):
        r = simulate_lost_sales(demand[i], s_lvl[i], big_s[i], lead_time=lead_time)
        out["served"][i], out["demanded"][i] = r.served, r.demanded
        out["avg_inv"][i], out["stockouts"][i] = r.average_on_hand, r.stockout_periods
        out["orders"][i] = r.orders_placed
    return out


def fill(res: dict[str, np.ndarray]) -> float:
    """Aggregate fill rate: units served / units demanded over all series."""
    return float(res["served"].sum() / res["demanded"].sum())


def textbook_matrices(
    past: list[np.ndarray], k: float, lead_time: int, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The textbook's (s, S) for every series (from its year of demand, safety factor k), held over the replay;
    review period 1."""
    s_lvl, big_s = np.zeros(len(past)), np.zeros(len(past))
    for i, h in enumerate(past):
        s_lvl[i], big_s[i] = textbook_levels(h, lead_time=lead_time, review_period=1, safety_factor=k)
    return s_lvl[:, None] * np.ones(shape), big_s[:, None] * np.ones(shape)


def moments_levels(moments: tuple[np.ndarray, np.ndarray, np.ndarray], k: float) -> tuple[np.ndarray, np.ndarray]:
    """(s, S) from cover moments: s = mean + k·sd, S = s + the review period's mean (series x replay period)."""
    mean_cover, var_cover, review = moments
    s_lvl = np.ceil(mean_cover + k * np.sqrt(var_cover))
    return s_lvl, np.ceil(s_lvl + review)


def textbook_replay(
    demand: np.ndarray, past: np.ndarray, lead_time: int, target: float
) -> tuple[float, dict[str, np.ndarray]]:
    """The textbook (s, S) with the safety factor k whose aggregate fill rate matches `target` (bisection)."""

    def run(k: float) -> dict[str, np.ndarray]:
        return replay(demand, *textbook_matrices(past, k, lead_time, demand.shape), lead_time)

    lo, hi = -2.0, 8.0
    while fill(run(hi)) < target and hi < 40:
        hi *= 2
    for _ in range(40):
        mid = (lo + hi) / 2
        if fill(run(mid)) < target:
            lo = mid
        else:
            hi = mid
    return hi, run(hi)


def calendar_moments(
    quantity: np.ndarray, promoted: np.ndarray, n_past: int, window: int, cols: np.ndarray, cover: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and variance of demand over each replay period's cover, from the promotion calendar alone.

    Each series' year before the replay gives the mean and deviation of its promoted and of its other periods
    (a kind seen fewer than 3 times takes the whole year's); a replay period's cover adds up the moments of the
    kinds its periods are planned as. Returns the cover mean and variance (series x replay period) and the mean
    of each replay period's review period (the last period of its cover).
    """
    n, periods = quantity.shape
    last = np.minimum(cols[:, None] + np.arange(cover)[None, :], periods - 1)  # (replay, cover) columns
    mean_cover, var_cover, review = (np.zeros((n, len(cols))) for _ in range(3))
    for i in range(n):
        h, p = quantity[i, :n_past], promoted[i, :n_past]
        keep = ~np.isnan(h)
        h, p = h[keep][-window:], p[keep][-window:]
        moments = {}
        for kind in (False, True):
            v = h[p == kind] if (p == kind).sum() >= 3 else h
            moments[kind] = (float(np.mean(v)), float(np.var(v, ddof=1)) if len(v) > 1 else 0.0)
        kinds = promoted[i, last]
        mu = np.where(kinds, moments[True][0], moments[False][0])
        var = np.where(kinds, moments[True][1], moments[False][1])
        mean_cover[i], var_cover[i], review[i] = mu.sum(axis=1), var.sum(axis=1), mu[:, -1]
    return mean_cover, var_cover, review


def moments_replay(
    demand: np.ndarray, moments: tuple[np.ndarray, np.ndarray, np.ndarray], lead_time: int, target: float
) -> tuple[float, dict[str, np.ndarray]]:
    """(s, S) from cover moments (the promotion calendar's, or the forecast medians'), s = mean + k·sd,
    S = s + the review period's mean, with k found by bisection so that the aggregate fill rate equals `target`,
    as for the textbook."""

    def run(k: float) -> dict[str, np.ndarray]:
        return replay(demand, *moments_levels(moments, k), lead_time)

    lo, hi = -2.0, 8.0
    while fill(run(hi)) < target and hi < 40:
        hi *= 2
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fill(run(mid)) < target else (lo, mid)
    return hi, run(hi)


def median_moments(
    forecasts: list[pd.DataFrame], ids: np.ndarray, dates: np.ndarray, past: list[np.ndarray], setup: Setup
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cover moments from the forecast medians: each replay period's cover (it and the lead time after it) sums
    the q50 of the latest origin at or before it; the variance is the year's variance of demand times the cover
    length, as the textbook's. Returns cover mean, cover variance and the review period's median (series x
    replay period), the shape :func:`moments_replay` takes."""
    cover = setup.lead_time + 1
    mean_cover, review = np.zeros((len(ids), len(dates))), np.zeros((len(ids), len(dates)))
    for j, f in enumerate(forecasts):
        cols = slice(j * setup.step, min((j + 1) * setup.step, len(dates)))
        frame = f.assign(series_id=f["series_id"].astype(str), date=pd.to_datetime(f["date"]))
        q50 = frame.pivot(index="series_id", columns="date", values="q50").reindex(ids).fillna(0.0).to_numpy()
        n = cols.stop - cols.start
        sums = np.stack([q50[:, t : t + cover].sum(axis=1) for t in range(n)], axis=1)
        mean_cover[:, cols], review[:, cols] = sums, q50[:, cover - 1 : cover - 1 + n]
    var = np.array([np.var(h, ddof=1) if len(h) > 1 else 0.0 for h in past])[:, None] * cover
    return mean_cover, var * np.ones_like(mean_cover), review


@dataclass(frozen=True)
class Window:
    """One replay window of a dataset: the series it scores, their demand in it and the year before it."""

    raw: pd.DataFrame  # the dataset as loaded, ending where --windows-before cuts it
    full: pd.DataFrame  # every series on a complete period grid
    grid: pd.DataFrame  # the scored series only
    ids: np.ndarray
    dates: np.ndarray  # the replay periods
    demand: np.ndarray  # series x replay period
    past: list[np.ndarray]  # each series' year of demand before the replay


def replay_window(setup: Setup, raw: pd.DataFrame, windows_before: int) -> Window:
    """The replay window `windows_before` replay lengths before the data's end: the series with at least 8
    periods before it that still sell at its end, their demand over it and their year of history before it."""
    if windows_before:
        # An earlier replay window: the data ends that many replay lengths before its real end.
        periods = np.sort(raw["date"].unique())
        raw = raw[raw["date"] <= periods[-1 - windows_before * setup.replay]].reset_index(drop=True)
    full = complete_history(raw, setup.freq, _week_anchor(raw, setup.freq))
    dates = np.sort(full["date"].unique())[-setup.replay :]
    cut = dates[0]
    span = full[full["date"] < cut].groupby("series_id")["date"].agg(["min", "count"])
    last = full.groupby("series_id")["date"].max()
    ids = np.array(sorted(i for i in span.index if span.loc[i, "count"] >= 8 and last[i] >= dates[-1]))
    grid = full[full["series_id"].isin(ids)]
    demand = grid.pivot(index="series_id", columns="date", values="quantity").loc[ids, dates].to_numpy()
    past = [
        g["quantity"].to_numpy()[-setup.history_year :]
        for _, g in grid[grid["date"] < cut].groupby("series_id", sort=True)
    ]
    return Window(raw, full, grid, ids, dates, demand, past)


def run_dataset(setup: Setup, args: argparse.Namespace) -> dict:
    """Replay one dataset with both policies and return what gets printed."""
    t0 = time.perf_counter()
    loaded, value = load(setup.name, args)
    w = replay_window(setup, loaded, args.windows_before)
    raw, full, grid, ids, dates, demand, past = w.raw, w.full, w.grid, w.ids, w.dates, w.demand, w.past
    cut = dates[0]
    calendar = None
    if setup.promotions:
        on = grid.assign(_on=(grid[list(setup.promotions)] > 0).any(axis=1))
        promoted = on.pivot(index="series_id", columns="date", values="_on").loc[ids].fillna(False).to_numpy(bool)
        quantity = grid.pivot(index="series_id", columns="date", values="quantity").loc[ids]
        cols = np.searchsorted(quantity.columns.to_numpy(), dates)
        calendar = calendar_moments(
            quantity.to_numpy(dtype=float),
            promoted,
            int(cols[0]),
            setup.history_year,
            cols,
            setup.lead_time + 1,
        )
    base = ReplenishmentConfig(lead_time=setup.lead_time, review_period=1, service_level=args.service_level)
    cfgs = {"pooled": replace(base, pooled=True), "per-series": base}
    history = raw[raw["series_id"].isin(ids)]
    # The calibration replay runs on the periods just before the replay window, with forecasts made then.
    all_dates = np.sort(full["date"].unique())
    cal_dates = all_dates[all_dates < cut][-(args.calibration_periods or setup.calibration) :]
    cal_forecasts, _ = forecasts_at_origins(history, cal_dates, setup, base, args)
    cal_actual = grid[grid["date"].isin(cal_dates)][["series_id", "date", "quantity"]]
    forecasts, backtests = forecasts_at_origins(history, dates, setup, base, args)
    if args.history_cap:
        # Each origin's quantiles stay inside the envelope of the year of demand before that origin.
        cal_forecasts = [cap_by_history(f, history, window=setup.history_year) for f in cal_forecasts]
        forecasts = [cap_by_history(f, history, window=setup.history_year) for f in forecasts]
    # Each origin reads only the demand before it (policy_candidates cuts the history at the forecast's start).
    demand_history = grid[["series_id", "date", "quantity"]]
    medians = median_moments(forecasts, ids, dates, past, setup)
    runs, calibrations = {}, {}
    for name, c in cfgs.items():
        cal = calibrate_policy(
            cal_forecasts, cal_actual, c, margin=args.fill_margin, history=demand_history, window=setup.history_year
        )
        calibrations[name] = cal
        s_lvl, big_s = level_matrices(forecasts, cal.apply(c), ids, dates, demand_history, setup.history_year)
        ours = replay(demand, s_lvl, big_s, setup.lead_time)
        k, book = textbook_replay(demand, past, setup.lead_time, fill(ours))
        ref = None if calendar is None else moments_replay(demand, calendar, setup.lead_time, fill(ours))
        runs[name] = (ours, k, book, ref, moments_replay(demand, medians, setup.lead_time, fill(ours)))
    # The app's suggestions: per series, forecasts with P10/P50/P90 only, each origin's planned through a
    # calibration on that forecast's own backtest windows, as each run's suggestions are (inventory.calibration).
    app = [app_calibration(bt, base) for bt in backtests]
    core = [f[["series_id", "date", "q10", "q50", "q90"]] for f in forecasts]
    planned = [replace(base, planning_fill=a.planning_fills[base.service_level]) for a in app]
    for name, c in (("app", planned), ("app, uncalibrated", base)):
        s_lvl, big_s = level_matrices(core, c, ids, dates, demand_history, setup.history_year)
        ours = replay(demand, s_lvl, big_s, setup.lead_time)
        k, book = textbook_replay(demand, past, setup.lead_time, fill(ours))
        ref = None if calendar is None else moments_replay(demand, calendar, setup.lead_time, fill(ours))
        runs[name] = (ours, k, book, ref, moments_replay(demand, medians, setup.lead_time, fill(ours)))
    unit = value.reindex(ids).to_numpy() if value is not None else None
    return {
        "setup": setup,
        "series": len(ids),
        "cut": pd.Timestamp(cut).date(),
        "runs": runs,
        "unit": unit,
        "calibrations": calibrations,
        "app": app,
        "origins": [pd.Timestamp(d).date() for d in dates[:: setup.step]],
        "cal_from": pd.Timestamp(cal_dates[0]).date(),
        "cal_periods": len(cal_dates),
        "seconds": time.perf_counter() - t0,
    }


def app_calibration(backtest: pd.DataFrame, base: ReplenishmentConfig) -> TargetCalibration:
    """The app's calibration: the backtest windows' P10/P50/P90 forecasts replayed against their demand."""
    frame = backtest.assign(series_id=backtest["series_id"].astype(str))
    actual = frame[["series_id", "date", "actual"]].rename(columns={"actual": "quantity"})
    windows = [w[["series_id", "date", "q10", "q50", "q90"]] for _, w in frame.groupby("origin", sort=True)]
    return calibrate_targets(windows, actual, base, (base.service_level,), margin=FILL_MARGIN)


def _week_anchor(frame: pd.DataFrame, freq: str) -> int:
    """The weekday weekly dates fall on (0 for daily data)."""
    from forecasting.engine.series import week_anchor

    return week_anchor(frame["date"]) if freq == "W" else 0


def _ratio_row(label: str, ours: dict, other: dict, unit: np.ndarray | None) -> dict:
    """A table row with the ratio of two policies' average inventory, in units and in value where prices exist."""
    row = {
        "policy": f"  ratio {label}",
        "fill": "",
        "avg_inv_units": f"{ours['avg_inv'].sum() / other['avg_inv'].sum():.3f}",
    }
    if unit is not None:
        row["avg_inv_value"] = f"{np.nansum(ours['avg_inv'] * unit) / np.nansum(other['avg_inv'] * unit):.3f}"
    return row | {"stockout_periods": "", "orders": ""}


def report(r: dict) -> dict[str, tuple[float, float]]:
    """Print one dataset's table; return (project fill rate, inventory ratio) per project policy."""
    s: Setup = r["setup"]
    unit = "days" if s.freq == "D" else "weeks"
    print(
        f"\n== {s.name}: {r['series']} series, replay {s.replay} {unit} from {r['cut']}, lead time {s.lead_time}, "
        f"review 1, re-forecast every {s.step} ({r['seconds']:.0f}s)"
    )
    rows, out = [], {}
    for name, (ours, k, book, ref, med) in r["runs"].items():
        policies = [(f"project {name}", ours), (f"  textbook k={k:.3f}", book)]
        if ref is not None:
            policies.append((f"  calendar textbook k={ref[0]:.3f}", ref[1]))
        policies.append((f"  median textbook k={med[0]:.3f}", med[1]))
        for label, res in policies:
            row = {"policy": label, "fill": f"{fill(res):.4f}", "avg_inv_units": f"{res['avg_inv'].sum():,.0f}"}
            if r["unit"] is not None:
                row["avg_inv_value"] = f"{np.nansum(res['avg_inv'] * r['unit']):,.0f}"
            row["stockout_periods"] = int(res["stockouts"].sum())
            row["orders"] = int(res["orders"].sum())
            rows.append(row)
        ratio = ours["avg_inv"].sum() / book["avg_inv"].sum()
        pairs = [("project/textbook", ours, book)]
        if ref is not None:
            pairs += [("project/calendar", ours, ref[1]), ("calendar/textbook", ref[1], book)]
        pairs += [("median/textbook", med[1], book)]
        rows += [_ratio_row(label, a, b, r["unit"]) for label, a, b in pairs]
        out[name] = (fill(ours), ratio)
    print(pd.DataFrame(rows).set_index("policy").to_string())
    for name, cal in r["calibrations"].items():
        shape = {
            "forecast": "the forecaster's",
            "level": "scaled with the median",
            "measured": "measured",
            "history": "the demand history's deviation",
        }[cal.spread]
        if cal.measured is not None:
            shape += f" (median weight {cal.measured.median_weight:.2f})"
        print(
            f"calibration ({name}, replay of the {r['cal_periods']} {unit} from {r['cal_from']}): spread {shape}, "
            f"error correlation {cal.error_correlation:g}, envelope {cal.envelope_level}, "
            f"planning fill {cal.planning_fill:.3f} -> "
            f"calibration fill {cal.fill_rate:.4f}"
        )
    for origin, app in zip(r["origins"], r["app"], strict=True):
        print(
            f"calibration (app, the backtest windows of the forecast from {origin}, P10/P50/P90): planning fill "
            f"{next(iter(app.planning_fills.values())):.3f} -> calibration fill {next(iter(app.fills.values())):.4f} "
            f"(uncalibrated {next(iter(app.uncalibrated_fills.values())):.4f})"
        )
    return out


def main() -> None:
    """Run the benchmark and print one table per dataset and a summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="rossmann,online_retail,dominicks")
    p.add_argument("--service-level", type=float, default=0.95)
    p.add_argument("--rossmann-stores", type=int, default=20)
    p.add_argument("--online-retail-top", type=int, default=100)
    p.add_argument("--dominicks-stores", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--history-cap",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hold forecast quantiles inside the year's demand envelope (default on)",
    )
    p.add_argument(
        "--fill-margin",
        type=float,
        default=FILL_MARGIN,
        help="standard errors of the calibration replay's fill added to the target it calibrates for",
    )
    p.add_argument(
        "--calibration-periods", type=int, help="length of the calibration replay (default: each dataset's own)"
    )
    p.add_argument("--cache", help="directory keeping the forecasts of each origin between runs")
    p.add_argument(
        "--windows-before",
        type=int,
        default=0,
        help="replay the window this many replay lengths before the last one (for comparing changes)",
    )
    args = p.parse_args()
    t0 = time.perf_counter()
    print(
        f"forecaster: models {', '.join(MODELS)} (+ ensemble), quantiles {POLICY_QUANTILES[0]}..{POLICY_QUANTILES[-1]}"
        f" ({len(POLICY_QUANTILES)}); policy fill-rate target {args.service_level}"
    )
    summary = []
    for name in args.datasets.split(","):
        r = run_dataset(SETUPS[name], args)
        for policy, (f, ratio) in report(r).items():
            summary.append((name, policy, f, ratio))
    print(f"\n== summary ({time.perf_counter() - t0:.0f}s; target: fill >= 0.95 and inventory ratio <= 0.85)")
    for name, policy, f, ratio in summary:
        ok = f >= 0.95 and ratio <= 0.85
        print(f"{name:14s} {policy:18s} fill {f:.4f}  inventory ratio {ratio:.3f}  {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
