"""What the stock ledger says about the past: the days each series had no stock at all."""

from __future__ import annotations

import pandas as pd

from forecasting.engine.series import regular_grid


def out_of_stock_days(movements: pd.DataFrame, end: pd.Timestamp | str) -> pd.DataFrame:
    """Days on which a series had no stock at any location, from its stock ledger (``series_id, date``).

    `movements` has ``series_id, location, at`` (local time) and ``on_hand_after``: the stock of that
    location after each movement. A series' stock is the sum over its locations, a location holding nothing
    before its first movement. A day is out of stock when the stock was zero when it began and after every
    movement of that day. Days up to the series' first movement are not known, so never out of stock; the
    days after `end` are not asked for.
    """
    empty = pd.DataFrame({"series_id": pd.Series([], dtype=str), "date": pd.to_datetime([])})
    if movements.empty:
        return empty
    m = movements.assign(series_id=movements["series_id"].astype(str), at=pd.to_datetime(movements["at"])).sort_values(
        ["series_id", "at"], kind="stable"
    )
    before = m.groupby(["series_id", "location"])["on_hand_after"].shift(fill_value=0)
    m["total"] = (m["on_hand_after"] - before).groupby(m["series_id"]).cumsum()
    m["date"] = m["at"].dt.normalize()
    daily = m.groupby(["series_id", "date"], as_index=False).agg(peak=("total", "max"), close=("total", "last"))
    end_day = pd.Timestamp(end).normalize()
    daily = daily[daily["date"] <= end_day]
    if daily.empty:
        return empty
    bounds = daily.groupby("series_id")["date"].min().rename("start").reset_index()
    grid = regular_grid(bounds, end_day, "D").merge(daily, on=["series_id", "date"], how="left")
    grid["close"] = grid.groupby("series_id")["close"].ffill()
    opening = grid.groupby("series_id")["close"].shift()
    peak = grid["peak"].fillna(grid["close"])
    out = grid[opening.notna() & (opening <= 0) & (peak <= 0)]
    return out[["series_id", "date"]].reset_index(drop=True)
