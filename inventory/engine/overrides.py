"""Buyers' overrides of suggested order quantities: how often and how much, and whether they helped (pure).

A frame of approved lines has one row per purchase-order line with ``suggested`` and ``approved`` quantities,
``unit_cost`` and ``auto`` (approved without a buyer). Auto-approved lines are counted but left out of every
override figure: nobody could change them.

Hindsight ("forecast value added"): once a line's cover window has passed, the quantity that would have been
right is known, ``H = max(0, actual cover demand + safety stock - inventory position)``, with the safety stock and
the position the suggestion planned with. A change helped when the approved quantity is closer to H than the
suggestion was, and hurt when it is further away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

HELPED, HURT, NEUTRAL, TOO_RECENT, UNKNOWN = "helped", "hurt", "neutral", "too_recent", "unknown"
#: The product ran out of stock during the cover: what it sold there is not what was wanted, so not judged.
STOCKED_OUT = "stocked_out"

#: Columns of :func:`override_table`'s frame, in order.
TABLE_COLUMNS = [
    "lines", "changed", "changed_share", "median_change_pct", "suggested", "approved", "net_units", "value_change",
]  # fmt: skip


def _by_buyer(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines a buyer approved (not auto-approved)."""
    return lines.loc[~lines["auto"].astype(bool).to_numpy()]


def override_changes(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines with their change: ``change`` (units), ``changed``, ``change_pct`` (of the suggestion; NaN when
    nothing was suggested) and ``value_change`` (the change at unit cost)."""
    out = lines.copy()
    suggested = out["suggested"].astype(float)
    change = out["approved"].astype(float) - suggested
    out["change"] = change
    out["changed"] = change != 0
    out["change_pct"] = np.where(suggested > 0, 100.0 * change / suggested.where(suggested > 0, 1.0), np.nan)
    out["value_change"] = change * out["unit_cost"].astype(float)
    return out


@dataclass(frozen=True)
class OverrideTotals:
    """The headline figures of a set of approved lines."""

    lines: int  # approved by a buyer
    auto_lines: int  # approved without one, left out of the figures below
    changed: int
    changed_share: float | None  # None without lines
    units_added: float
    units_removed: float  # as a positive number
    value_change: float
    median_change_pct: float | None  # over the changed lines with a suggestion


def override_totals(lines: pd.DataFrame) -> OverrideTotals:
    """How many lines a buyer approved, how many of them were changed, and by how much in units and value."""
    manual = override_changes(_by_buyer(lines))
    changed = manual[manual["changed"]]
    pct = changed["change_pct"].dropna()
    return OverrideTotals(
        lines=len(manual),
        auto_lines=len(lines) - len(manual),
        changed=len(changed),
        changed_share=len(changed) / len(manual) if len(manual) else None,
        units_added=float(manual["change"].clip(lower=0).sum()),
        units_removed=float(-manual["change"].clip(upper=0).sum()),
        value_change=float(manual["value_change"].sum()),
        median_change_pct=float(pct.median()) if len(pct) else None,
    )


def override_table(lines: pd.DataFrame, by: str) -> pd.DataFrame:
    """Override figures per value of `by` (a supplier, an approver), largest absolute value change first.

    Columns: ``lines``, ``changed``, ``changed_share``, ``median_change_pct`` (median change of the changed lines
    in % of their suggestion; NaN when none was changed), ``suggested`` and ``approved`` units, ``net_units`` and
    ``value_change``; indexed by `by`.
    Auto-approved lines are left out.
    """
    manual = override_changes(_by_buyer(lines))
    if manual.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS, index=pd.Index([], name=by))
    manual = manual.assign(_pct=manual["change_pct"].where(manual["changed"]))
    grouped = manual.groupby(by, sort=False)
    table = pd.DataFrame(
        {
            "lines": grouped.size(),
            "changed": grouped["changed"].sum().astype(int),
            "median_change_pct": grouped["_pct"].median(),
            "suggested": grouped["suggested"].sum(),
            "approved": grouped["approved"].sum(),
            "net_units": grouped["change"].sum(),
            "value_change": grouped["value_change"].sum(),
        }
    )
    table["changed_share"] = table["changed"] / table["lines"]
    order = table["value_change"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order, TABLE_COLUMNS]


def cover_demand(daily: pd.DataFrame, windows: pd.DataFrame) -> pd.Series:
    """Actual demand of each window: the sum of `daily` (``series_id, date, quantity``) from ``start`` up to, not
    including, ``end`` of the window's ``series_id``; indexed like `windows`. Days without a row count as zero."""
    if windows.empty:
        return pd.Series([], dtype=float, index=windows.index)
    if daily.empty:
        return pd.Series(0.0, index=windows.index)
    days = daily.assign(date=pd.to_datetime(daily["date"]), quantity=daily["quantity"].astype(float).fillna(0.0))
    totals = pd.Series(0.0, index=windows.index)
    starts, ends = pd.to_datetime(windows["start"]), pd.to_datetime(windows["end"])
    for sid, series in days.groupby("series_id"):
        rows = windows.index[windows["series_id"] == sid]
        if rows.empty:
            continue
        series = series.sort_values("date")
        dates = series["date"].to_numpy()
        # Demand before a day is the running total up to it: a window's demand is a difference of two of them.
        running = np.concatenate([[0.0], np.cumsum(series["quantity"].to_numpy())])
        before_end = running[np.searchsorted(dates, ends[rows].to_numpy(), side="left")]
        before_start = running[np.searchsorted(dates, starts[rows].to_numpy(), side="left")]
        totals.loc[rows] = before_end - before_start
    return totals


def hindsight(lines: pd.DataFrame, *, today: date) -> pd.DataFrame:
    """Each line judged against the quantity that hindsight shows was right.

    Needs ``suggested``, ``approved``, ``cover_end`` (the day after the cover window; the window has passed when
    it is on or before `today`), ``actual_demand``, ``safety_stock`` and ``inventory_position``. Adds ``right``
    (H), ``suggested_error`` and ``approved_error`` (absolute distance to H) and ``verdict``: helped, hurt or
    neutral; too_recent while the window runs; unknown without the suggestion's figures; stocked_out when an
    optional ``stockout_days`` column counts days without stock in the window. Sales on such days are not the
    demand (a cut that emptied the shelf would otherwise look right), so those lines are not judged.
    """
    out = lines.copy()
    suggested = out["suggested"].astype(float)
    approved = out["approved"].astype(float)
    known = out[["safety_stock", "inventory_position"]].notna().all(axis=1) & out["cover_end"].notna()
    ended = known & (pd.to_datetime(out["cover_end"]) <= pd.Timestamp(today))
    stocked_out = ended & (out["stockout_days"].fillna(0) > 0) if "stockout_days" in out else ended & False
    passed = ended & ~stocked_out
    actual = out["actual_demand"].astype(float).fillna(0.0)
    right = (actual + out["safety_stock"].astype(float) - out["inventory_position"].astype(float)).clip(lower=0.0)
    out["right"] = right.where(passed)
    out["suggested_error"] = (suggested - right).abs().where(passed)
    out["approved_error"] = (approved - right).abs().where(passed)
    verdict = np.select(
        [out["approved_error"] < out["suggested_error"], out["approved_error"] > out["suggested_error"]],
        [HELPED, HURT],
        default=NEUTRAL,
    )
    out["verdict"] = np.where(
        passed, verdict, np.where(stocked_out, STOCKED_OUT, np.where(known & ~ended, TOO_RECENT, UNKNOWN))
    )
    return out


@dataclass(frozen=True)
class HindsightTotals:
    """Did the changes help: the changed lines by verdict, and their errors against hindsight."""

    helped: int
    hurt: int
    neutral: int
    too_recent: int
    unknown: int
    stocked_out: int
    suggested_error: float  # total |suggested - H| over the judged lines
    approved_error: float  # total |approved - H| over the judged lines

    @property
    def judged(self) -> int:
        return self.helped + self.hurt + self.neutral


def hindsight_totals(judged: pd.DataFrame) -> HindsightTotals:
    """Counts and total absolute errors of the changed, buyer-approved lines of a :func:`hindsight` frame."""
    rows = _by_buyer(judged)
    rows = rows.loc[rows["changed"].astype(bool).to_numpy()]
    counts = rows["verdict"].value_counts()
    done = rows.loc[rows["verdict"].isin([HELPED, HURT, NEUTRAL]).to_numpy()]
    return HindsightTotals(
        helped=int(counts.get(HELPED, 0)),
        hurt=int(counts.get(HURT, 0)),
        neutral=int(counts.get(NEUTRAL, 0)),
        too_recent=int(counts.get(TOO_RECENT, 0)),
        unknown=int(counts.get(UNKNOWN, 0)),
        stocked_out=int(counts.get(STOCKED_OUT, 0)),
        suggested_error=float(done["suggested_error"].sum()),
        approved_error=float(done["approved_error"].sum()),
    )
