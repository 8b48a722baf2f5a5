"""Loaders that turn the shared public datasets into forecast histories (series_id, date, quantity, covariates)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.engine.series import demand_from_lines

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("RETAILAI_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: Dominick's week 1 began on Thursday 14 September 1989 (Kilts Center data manual).
DOMINICKS_WEEK1 = pd.Timestamp("1989-09-14")


def rossmann(stores: int | None = None, data: Path = SHARED_DATA) -> pd.DataFrame:
    """Daily store sales with Open, Promo, StateHoliday and SchoolHoliday flags."""
    df = pd.read_csv(
        data / "rossmann_100_stores" / "train_stores_1-100.csv.gz",
        dtype={"StateHoliday": str},
        parse_dates=["Date"],
    )
    if stores:
        df = df[df["Store"] <= stores]
    return (
        pd.DataFrame(
            {
                "series_id": df["Store"].astype(str),
                "date": df["Date"],
                "quantity": df["Sales"].astype(float),
                "open": df["Open"].astype(float),
                "promo": df["Promo"].astype(float),
                "state_holiday": (df["StateHoliday"] != "0").astype(float),
                "school_holiday": df["SchoolHoliday"].astype(float),
            }
        )
        .sort_values(["series_id", "date"])
        .reset_index(drop=True)
    )


def dominicks_oj(stores: int | None = None, data: Path = SHARED_DATA) -> pd.DataFrame:
    """Weekly store x brand orange-juice units (exp(logmove)) with own price, deal and feature.

    A store-week absent from the source is a week the store did not report, not a week without sales: its
    units are interpolated (in logs) and its covariates carried forward, so the zero-fill rule for missing
    periods does not invent stock-outs.
    """
    df = pd.read_csv(data / "dominicks_bayesm" / "orangeJuice_yx.csv.gz")
    if stores:
        keep = np.sort(df["store"].unique())[:stores]
        df = df[df["store"].isin(keep)]
    own = df[[f"price{b}" for b in range(1, 12)]].to_numpy()[np.arange(len(df)), df["brand"].to_numpy() - 1]
    df = df.assign(series_id=df["store"].astype(str) + "-" + df["brand"].astype(str), price=own)
    parts = []
    for sid, g in df.groupby("series_id", sort=True):
        g = g.set_index("week").reindex(range(g["week"].min(), g["week"].max() + 1))
        g["logmove"] = g["logmove"].interpolate()
        g[["price", "deal", "feat"]] = g[["price", "deal", "feat"]].ffill()
        g["series_id"] = sid
        parts.append(g.reset_index(names="week"))
    df = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(
        {
            "series_id": df["series_id"],
            "date": DOMINICKS_WEEK1 + pd.to_timedelta((df["week"] - 1) * 7, unit="D"),
            "quantity": np.exp(df["logmove"]).round(),
            "price": df["price"],
            "deal": df["deal"].astype(float),
            "feat": df["feat"].astype(float),
        }
    )


def online_retail_weekly(top: int = 200, data: Path = SHARED_DATA, *, unseen: int = 0) -> pd.DataFrame:
    """Weekly net demand (sales minus cancellations) of the top SKUs by volume, last partial week dropped.

    The SKUs are ranked on their volume before the last `unseen` weeks: a benchmark that scores those weeks
    must not pick its series for how much they sold in them (that favours SKUs whose demand jumped there).
    """
    df = pd.read_csv(
        data / "uci_online_retail" / "online_retail_2010-12_2011-12.csv.gz",
        dtype={"InvoiceNo": str, "StockCode": str},
        usecols=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate"],
        parse_dates=["InvoiceDate"],
    )
    cancel = df["InvoiceNo"].str.startswith("C")
    lines = pd.DataFrame(
        {
            "product": df["StockCode"],
            "date": df["InvoiceDate"],
            "kind": np.where(cancel, "cancellation", np.where(df["Quantity"] > 0, "sale", "adjustment")),
            "quantity": df["Quantity"].abs(),
            # Postage, fees, manual entries and samples are not merchandise; product codes start with 5 digits.
            "is_merchandise": df["StockCode"].str.match(r"^\d{5}"),
        }
    )
    last_full_week = pd.Timestamp("2011-11-28")
    lines = lines[lines["date"] < last_full_week + pd.Timedelta(days=7)]
    weekly = demand_from_lines(lines, freq="W", end=last_full_week, location_col=None)
    return top_by_volume(weekly, top, unseen)


def top_by_volume(frame: pd.DataFrame, top: int, unseen: int = 0) -> pd.DataFrame:
    """The rows of the `top` series by total quantity over all but the last `unseen` dates of the frame."""
    dates = np.sort(frame["date"].unique())
    seen = frame[frame["date"] < dates[-unseen]] if 0 < unseen < len(dates) else frame
    top_ids = seen.groupby("series_id")["quantity"].sum().nlargest(top).index
    return frame[frame["series_id"].isin(top_ids)].reset_index(drop=True)


def m5_tiny(data: Path = SHARED_DATA) -> pd.DataFrame:
    """Daily M5 sales of 10 items with sell price and an event flag, zero days restored.

    The sample keeps only days with sales. Every item is reindexed from its first sale to the last day of the
    sample (the M5 calendar ends on the same day for all items), so an item that stopped selling has zero days
    at the end instead of a history that ends on its last sale; the held-out days are the same calendar days
    for every item. A restored day carries the item's last known price and the calendar's event flag.
    """
    files = sorted((data / "m5_tiny_sample").glob("*.csv.gz"))
    df = pd.read_csv(files[0], parse_dates=["date"])
    events = df.groupby("date")["event_name_1"].apply(lambda e: float(e.notna().any()))
    end = df["date"].max()
    parts = []
    for item, g in df.groupby("item_id", sort=True):
        days = pd.date_range(g["date"].min(), end, freq="D")
        g = g.set_index("date").reindex(days)
        parts.append(
            pd.DataFrame(
                {
                    "series_id": item,
                    "date": days,
                    "quantity": g["sales"].fillna(0.0).astype(float).to_numpy(),
                    "sell_price": g["sell_price"].ffill().bfill().astype(float).to_numpy(),
                    "event": events.reindex(days).fillna(0.0).to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def recreate_postgres_database(url: str) -> str:
    """Drop and re-create the PostgreSQL database named in `url` (a scratch database); returns a description."""
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    admin = psycopg2.connect(
        dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"], host=cfg["HOST"], port=cfg["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()
    return f"PostgreSQL {cfg['NAME']}"
