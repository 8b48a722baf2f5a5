"""Lead times suppliers actually deliver in, measured from sent orders and their receipts (pure pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DELIVERY_COLUMNS = ("supplier_id", "purchase_order_id", "product_id", "sent", "received", "promised_days")


def delivery_events(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per delivery: the lines of an order that first arrived on the same day, with the days the order
    took (``actual_days``), the days the supply terms promised for those lines (their mean), and how many days
    late that is (negative: early).

    `lines` has one row per order line and its first receipt (`DELIVERY_COLUMNS`; ``sent`` and ``received`` as
    dates). A supplier that ships an order in two parts makes two deliveries; the lines of one delivery come on
    one truck, so they count once.
    """
    if lines.empty:
        return pd.DataFrame(columns=["supplier_id", "purchase_order_id", "received", "actual_days",
                                     "promised_days", "late_days"])  # fmt: skip
    d = lines.assign(
        actual_days=(pd.to_datetime(lines["received"]) - pd.to_datetime(lines["sent"])).dt.days.astype(float)
    )
    events = (
        d.groupby(["supplier_id", "purchase_order_id", "received"], sort=True)
        .agg(actual_days=("actual_days", "first"), promised_days=("promised_days", "mean"))
        .reset_index()
    )
    return events.assign(late_days=events["actual_days"] - events["promised_days"])


def supplier_lead_times(events: pd.DataFrame, *, min_deliveries: int) -> pd.DataFrame:
    """Per supplier: deliveries, mean actual and promised days, mean lateness, the deviation of the lateness
    (sample standard deviation; 0 for one delivery), the share on time or early, and ``measured`` when there are
    at least `min_deliveries` deliveries to plan with."""
    columns = ["deliveries", "actual_days", "promised_days", "late_days", "late_std_days", "on_time_share",
               "measured"]  # fmt: skip
    if events.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="supplier_id"))
    g = events.groupby("supplier_id", sort=True)
    out = pd.DataFrame(
        {
            "deliveries": g.size(),
            "actual_days": g["actual_days"].mean(),
            "promised_days": g["promised_days"].mean(),
            "late_days": g["late_days"].mean(),
            "late_std_days": g["late_days"].std(ddof=1).fillna(0.0),
            "on_time_share": g["late_days"].apply(lambda s: float((s <= 0).mean())),
        }
    )
    out["measured"] = out["deliveries"] >= min_deliveries
    return out[columns]


def planning_lead_time(promised_days: int, late_days: float, late_std_days: float) -> tuple[int, float]:
    """The lead time and its deviation to plan with from measured deliveries: the promised days plus the mean
    lateness when the supplier is late on average (rounded up; being early on average is not counted on), and
    the deviation of the lateness."""
    extra = max(float(late_days), 0.0)
    return int(promised_days + np.ceil(extra - 1e-9)), round(max(float(late_std_days), 0.0), 2)
