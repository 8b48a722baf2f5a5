"""Small event logs with known answers for the recommendation engine."""

from __future__ import annotations

import pandas as pd
import pytest

DAY0 = pd.Timestamp("2024-01-01")


def lines(rows: list[tuple[str, str, float]], quantity: float = 1.0) -> pd.DataFrame:
    """`user_id,item_id,timestamp,quantity` from (user, item, day offset) triples."""
    return pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "item_id": [i for _, i, _ in rows],
            "timestamp": [DAY0 + pd.Timedelta(days=d) for _, _, d in rows],
            "quantity": quantity,
        }
    )


@pytest.fixture
def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Twelve shoppers: MUG goes with SAUCER, candle holders sell to two, scarves are popular."""
    rows: list[tuple[str, str, float]] = []
    for n in range(8):
        u = f"c{n:02d}"
        rows += [(u, "SCARF1", 1 + n), (u, "SCARF2", 2 + n)]
        if n < 6:
            rows += [(u, "MUG", 3 + n), (u, "SAUCER", 3 + n)]
    rows += [("c10", "CANDLE1", 4), ("c10", "CANDLE2", 9), ("c11", "CANDLE1", 5), ("c11", "SCARF1", 6)]
    rows += [("c12", "MUG", 7)]
    items = pd.DataFrame(
        {
            "item_id": ["SCARF1", "SCARF2", "MUG", "SAUCER", "CANDLE1", "CANDLE2", "CANDLE3", "POST"],
            "description": [
                "RED WOOL SCARF",
                "BLUE WOOL SCARF",
                "WHITE CERAMIC MUG",
                "WHITE CERAMIC SAUCER",
                "GLASS CANDLE HOLDER HEART",
                "GLASS CANDLE HOLDER STAR",
                "GLASS CANDLE HOLDER MOON",
                "POSTAGE",
            ],
            "category": ["textiles", "textiles", "kitchen", "kitchen", "home", "home", "home", "fees"],
            "in_stock": [1, 1, 1, 1, 1, 1, 1, 1],
        }
    )
    return lines(rows), items


@pytest.fixture(autouse=True)
def _forget_served_run():
    """The served run is cached across requests; each test starts from its own database."""
    from recommendations.selectors import serving_run_forget

    serving_run_forget()
    yield
    serving_run_forget()
