"""The override figures on small sets with known answers: how often and how much buyers change suggestions, and
whether a change brought the order closer to what hindsight shows was needed."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from inventory.engine.overrides import (
    HELPED,
    HURT,
    NEUTRAL,
    STOCKED_OUT,
    TOO_RECENT,
    cover_demand,
    hindsight,
    hindsight_totals,
    override_changes,
    override_table,
    override_totals,
)


def _lines(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["supplier", "approver", "suggested", "approved", "unit_cost", "auto"])


THREE = _lines(
    [
        ("Teas", "ann", 40, 60, 2.0, False),  # raised by 50%
        ("Teas", "bob", 30, 0, 1.0, False),  # cut to nothing
        ("Jams", "ann", 10, 10, 5.0, False),  # as suggested
    ]
)


def test_one_raised_one_cut_one_untouched():
    totals = override_totals(THREE)

    assert (totals.lines, totals.auto_lines, totals.changed) == (3, 0, 2)
    assert totals.changed_share == pytest.approx(2 / 3)
    assert (totals.units_added, totals.units_removed) == (20, 30)
    assert totals.value_change == 20 * 2.0 - 30 * 1.0 == 10
    # The median of the changes that were made: +50% and -100%.
    assert totals.median_change_pct == -25


def test_auto_approved_lines_are_counted_apart():
    lines = pd.concat([THREE, _lines([("Teas", None, 8, 8, 1.0, True)])], ignore_index=True)

    totals = override_totals(lines)

    assert (totals.lines, totals.auto_lines, totals.changed) == (3, 1, 2)
    assert override_table(lines, "supplier")["lines"].to_dict() == {"Teas": 2, "Jams": 1}


def test_tables_put_the_largest_value_change_first():
    by_supplier = override_table(THREE, "supplier")
    by_approver = override_table(THREE, "approver")

    assert list(by_supplier.index) == ["Teas", "Jams"]
    assert by_supplier.loc["Teas"].to_dict() == {
        "lines": 2, "changed": 2, "changed_share": 1.0, "median_change_pct": -25.0, "suggested": 70,
        "approved": 60, "net_units": -10.0, "value_change": 10.0,
    }  # fmt: skip
    assert by_supplier.loc["Jams", "changed_share"] == 0 and pd.isna(by_supplier.loc["Jams", "median_change_pct"])
    # ann added 40 in value, bob took 30 away: ann first.
    assert list(by_approver.index) == ["ann", "bob"]
    assert by_approver["value_change"].tolist() == [40.0, -30.0]


def test_a_change_from_nothing_suggested_has_no_percentage():
    changes = override_changes(_lines([("Teas", "ann", 0, 12, 1.0, False)]))
    assert changes["changed"].tolist() == [True] and changes["change_pct"].isna().all()


def test_cover_demand_sums_the_days_of_each_window():
    daily = pd.DataFrame(
        {"series_id": ["TEA"] * 5 + ["JAM"], "date": pd.date_range("2024-03-01", periods=5).tolist() + ["2024-03-02"]}
    ).assign(quantity=[1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    windows = pd.DataFrame(
        {
            "series_id": ["TEA", "TEA", "JAM", "MUG"],
            "start": pd.to_datetime(["2024-03-02", "2024-02-01", "2024-03-01", "2024-03-01"]),
            "end": pd.to_datetime(["2024-03-04", "2024-03-02", "2024-03-09", "2024-03-09"]),
        },
        index=[10, 11, 12, 13],
    )

    assert cover_demand(daily, windows).to_dict() == {10: 5.0, 11: 1.0, 12: 7.0, 13: 0.0}


def _judge(rows, today=date(2024, 4, 1)) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["suggested", "approved", "actual_demand", "safety_stock", "inventory_position", "cover_end"],
    ).assign(unit_cost=1.0, auto=False)
    return hindsight(override_changes(frame), today=today)


def test_hindsight_a_raise_that_helped_and_a_cut_that_hurt():
    judged = _judge(
        [
            # Forecast 100 over the cover, 20 safety stock, 30 in position: suggested 90. Demand was 140, so
            # 130 was right; the buyer's 120 came closer.
            (90, 120, 140.0, 20.0, 30.0, date(2024, 3, 20)),
            # Suggested 50; the buyer cut to 10, but demand matched the forecast (H = 60 + 10 - 20 = 50).
            (50, 10, 60.0, 10.0, 20.0, date(2024, 3, 31)),
            # Raised, but the window ends tomorrow: too recent to judge.
            (50, 80, 0.0, 10.0, 20.0, date(2024, 4, 2)),
            # Untouched.
            (40, 40, 10.0, 0.0, 0.0, date(2024, 3, 1)),
        ]
    )

    assert judged["right"].tolist()[:2] == [130.0, 50.0] and pd.isna(judged["right"].iloc[2])
    assert judged["verdict"].tolist() == [HELPED, HURT, TOO_RECENT, NEUTRAL]
    totals = hindsight_totals(judged)
    assert (totals.helped, totals.hurt, totals.neutral, totals.too_recent, totals.judged) == (1, 1, 0, 1, 2)
    assert (totals.suggested_error, totals.approved_error) == (40 + 0, 10 + 40)


def test_hindsight_right_quantity_is_never_below_zero():
    # Demand collapsed: stock on hand covered everything, so ordering nothing was right and the cut helped.
    judged = _judge([(50, 20, 5.0, 10.0, 40.0, date(2024, 3, 1))])
    assert judged["right"].tolist() == [0.0] and judged["verdict"].tolist() == [HELPED]


def test_hindsight_leaves_out_a_cover_that_ran_out_of_stock():
    # The same cut as above (suggested 50, cut to 10), but the shelf was empty for 4 days of the cover: the 60
    # sold are not the demand, so the cut is neither helped nor hurt, and its errors count nowhere.
    frame = pd.DataFrame(
        [(50, 10, 60.0, 10.0, 20.0, date(2024, 3, 31), 4), (90, 120, 140.0, 20.0, 30.0, date(2024, 3, 20), 0)],
        columns=["suggested", "approved", "actual_demand", "safety_stock", "inventory_position", "cover_end",
                 "stockout_days"],
    ).assign(unit_cost=1.0, auto=False)  # fmt: skip
    judged = hindsight(override_changes(frame), today=date(2024, 4, 1))

    assert judged["verdict"].tolist() == [STOCKED_OUT, HELPED]
    assert pd.isna(judged["right"].iloc[0]) and pd.isna(judged["approved_error"].iloc[0])
    totals = hindsight_totals(judged)
    assert (totals.helped, totals.hurt, totals.stocked_out, totals.judged) == (1, 0, 1, 1)
    assert (totals.suggested_error, totals.approved_error) == (40, 10)
