"""Demand series from order lines: net demand per period, zero-filled, on a regular daily or weekly grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Line kinds that add to or take away from customer demand; adjustments are bookkeeping, not demand.
DEMAND_SIGN = {"sale": 1.0, "cancellation": -1.0, "return": -1.0}


def period_start(dates: pd.Series | pd.DatetimeIndex, freq: str, anchor: int = 0) -> pd.Series:
    """Map dates to the date of their period: the day itself (D) or the week's `anchor` weekday on or before it."""
    d = pd.to_datetime(pd.Series(dates)).dt.normalize()
    if freq == "D":
        return d
    return d - pd.to_timedelta((d.dt.day_of_week - anchor) % 7, unit="D")


def week_anchor(dates: pd.Series) -> int:
    """The weekday (0 = Monday) that most dates of a weekly history fall on."""
    return int(pd.to_datetime(pd.Series(dates)).dt.day_of_week.mode().iloc[0])


def infer_freq(dates: pd.Series) -> str:
    """Infer D or W from the typical gap between consecutive distinct dates."""
    u = np.sort(pd.to_datetime(pd.Series(dates)).dt.normalize().unique())
    if len(u) < 2:
        return "D"
    gaps = np.diff(u).astype("timedelta64[D]").astype(int)
    return "W" if np.median(gaps) >= 7 and np.all(gaps % 7 == 0) else "D"


def demand_from_lines(
    lines: pd.DataFrame,
    freq: str = "D",
    end: pd.Timestamp | str | None = None,
    product_col: str = "product",
    location_col: str | None = "location",
    merchandise_col: str = "is_merchandise",
) -> pd.DataFrame:
    """Net demand (sales - cancellations - returns) per series and period, zero-filled from first sale to `end`.

    Weekly periods are dated by their Monday. Returns a long frame ``series_id, date, quantity``. A series is a
    product, or a product at a location when the frame has a location column. Adjustment lines and
    non-merchandise products are left out. A period's net demand is clipped at zero: a return booked in a quiet
    week belongs to an earlier sale, and a negative demand would teach the models that customers hand stock
    back, which no order quantity can follow.
    """
    df = lines.copy()
    if product_col not in df.columns and "sku" in df.columns:
        product_col = "sku"
    if merchandise_col in df.columns:
        df = df[df[merchandise_col].astype(bool)]
    sign = df["kind"].map(DEMAND_SIGN)
    df = df[sign.notna()].assign(_q=df["quantity"].astype(float) * sign[sign.notna()])
    keys = [product_col]
    if location_col and location_col in df.columns:
        keys.append(location_col)
    sid = df[keys[0]].astype(str)
    for k in keys[1:]:
        sid = sid + "@" + df[k].astype(str)
    df = df.assign(series_id=sid.to_numpy(), date=period_start(df["date"], freq).to_numpy())
    net = df.groupby(["series_id", "date"], as_index=False)["_q"].sum().rename(columns={"_q": "quantity"})
    first_sale = df[df["_q"] > 0].groupby("series_id")["date"].min()
    net = net[net["series_id"].isin(first_sale.index)]
    end_ts = period_start(pd.Series([pd.Timestamp(end)]), freq).iloc[0] if end is not None else net["date"].max()
    grid = regular_grid(first_sale.rename("start").reset_index(), end_ts, freq)
    out = grid.merge(net, on=["series_id", "date"], how="left")
    out["quantity"] = out["quantity"].fillna(0.0).clip(lower=0.0)
    return out.sort_values(["series_id", "date"], ignore_index=True)


def regular_grid(starts: pd.DataFrame, end: pd.Timestamp | pd.Series, freq: str) -> pd.DataFrame:
    """Every period from each series' ``start`` to ``end`` (a scalar or a per-series ``end`` column)."""
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    s = starts.copy()
    if "end" not in s.columns:
        s["end"] = end
    n = ((s["end"] - s["start"]) // step).astype(int).clip(lower=-1) + 1
    rep = np.repeat(np.arange(len(s)), n.to_numpy())
    offs = np.concatenate([np.arange(k) for k in n.to_numpy()]) if len(s) else np.array([], dtype=int)
    dates = s["start"].to_numpy()[rep] + offs * step.to_timedelta64()
    return pd.DataFrame({"series_id": s["series_id"].to_numpy()[rep], "date": dates})


def complete_history(history: pd.DataFrame, freq: str, anchor: int = 0) -> pd.DataFrame:
    """Put each series on a regular grid from its first to its last row; a missing period is zero demand.

    Covariates of the missing periods are carried forward from the last known period (a price holds until it
    changes), and promo-like flags that are missing are treated as 0.
    """
    h = history.copy()
    h["date"] = period_start(h["date"], freq, anchor).to_numpy()
    cov = [c for c in h.columns if c not in ("series_id", "date", "quantity")]
    agg = {"quantity": "sum", **{c: "last" for c in cov}}
    h = h.groupby(["series_id", "date"], as_index=False, sort=True).agg(agg)
    bounds = h.groupby("series_id")["date"].agg(start="min", end="max").reset_index()
    grid = regular_grid(bounds, bounds["end"], freq)
    out = grid.merge(h, on=["series_id", "date"], how="left")
    out["quantity"] = out["quantity"].fillna(0.0).astype(float)
    if cov:
        out[cov] = out.groupby("series_id")[cov].ffill()
        out[cov] = out.groupby("series_id")[cov].bfill().fillna(0.0)
    return out.sort_values(["series_id", "date"], ignore_index=True)
