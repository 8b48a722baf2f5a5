"""Known answers of the stock ledger's reading: which days a product had no stock at all."""

from __future__ import annotations

import pandas as pd

from inventory.engine.ledger import out_of_stock_days


def test_out_of_stock_days_are_read_from_the_ledger_across_locations():
    at = pd.to_datetime
    ledger = pd.DataFrame(
        [
            # A: 5 at WH on day 1, sold out on day 3 at noon, 4 arrive at STORE on day 6.
            ("A", "WH", at("2024-01-01 09:00"), 5),
            ("A", "WH", at("2024-01-03 12:00"), 0),
            ("A", "STORE", at("2024-01-06 08:00"), 4),
            # B: empty at WH from day 2 but 2 at STORE all along: never out of stock.
            ("B", "STORE", at("2024-01-01 09:00"), 2),
            ("B", "WH", at("2024-01-01 10:00"), 3),
            ("B", "WH", at("2024-01-02 10:00"), 0),
            # C: counted empty on day 2 and again on day 4 (a count that changes nothing), refilled on day 5.
            ("C", "WH", at("2024-01-02 07:00"), 0),
            ("C", "WH", at("2024-01-04 07:00"), 0),
            ("C", "WH", at("2024-01-05 18:00"), 9),
        ],
        columns=["series_id", "location", "at", "on_hand_after"],
    )
    out = out_of_stock_days(ledger, "2024-01-07")
    days = {sid: [d.day for d in g["date"]] for sid, g in out.groupby("series_id")}
    # A: day 3 had stock in the morning; days 4 and 5 had none; day 6 was refilled.
    assert days["A"] == [4, 5]
    assert "B" not in days
    # C: its first ledger day (2) is not known to have been empty all day; day 5 was refilled in the evening.
    assert days["C"] == [3, 4]
    assert out_of_stock_days(ledger, "2024-01-04").groupby("series_id").size().to_dict() == {"A": 1, "C": 2}
    assert out_of_stock_days(ledger.iloc[:0], "2024-01-07").empty
