"""Serving-time business rules: stock, non-merchandise, boosts and diversity over ranked candidates."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

NON_MERCHANDISE_CODES = frozenset(
    {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B", "CRUK COMMISSION"}
)
_NON_MERCH_PREFIXES = ("gift_", "GIFT_", "ADJUST", "TEST")
_STEM_STOPWORDS = frozenset(
    "SET OF THE AND WITH IN A AN FOR TO ON SMALL LARGE MEDIUM PACK ASSORTED "
    "RED PINK BLUE GREEN WHITE BLACK IVORY CREAM YELLOW ORANGE PURPLE GOLD SILVER BROWN GREY".split()
)


def is_non_merchandise(item_ids: pd.Series) -> pd.Series:
    """True for postage, fees, manual adjustments, gift vouchers and other non-product codes."""
    ids = item_ids.astype(str).str.strip()
    upper = ids.str.upper()
    return upper.isin(NON_MERCHANDISE_CODES) | ids.str.startswith(_NON_MERCH_PREFIXES)


def description_stem(description: str) -> str:
    """Two leading content words of a description: near-duplicates (colour variants) share it."""
    words = [w for w in re.findall(r"[A-Z][A-Z'\-]+", str(description).upper()) if w not in _STEM_STOPWORDS]
    return " ".join(words[:2])


@dataclass(frozen=True)
class RuleConfig:
    """Serving rules: which items may be shown and how the list is reshaped."""

    drop_non_merchandise: bool = True
    drop_out_of_stock: bool = True
    boost_column: str | None = None  # e.g. "overstock" or "margin", scaled to 0..1 per catalogue
    boost_weight: float = 0.1
    max_per_group: int | None = 3  # at most this many items sharing a category/description stem
    group_column: str | None = None  # None: category when present, else description stem


def item_groups(items: pd.DataFrame | None, config: RuleConfig) -> pd.Series | None:
    """Diversity group per item id (category, or a description stem), None when nothing describes items."""
    if items is None or items.empty:
        return None
    col = config.group_column
    if col is None:
        col = "category" if "category" in items else ("description" if "description" in items else None)
    if col is None or col not in items:
        return None
    values = items[col].astype(str)
    if col == "description":
        values = values.map(description_stem)
    return pd.Series(values.to_numpy(), index=items["item_id"].astype(str).to_numpy())


def in_stock_mask(items: pd.DataFrame) -> pd.Series:
    """Item id → sellable now, from `in_stock` or a stock quantity column (items without one stay sellable)."""
    ids = items["item_id"].astype(str).to_numpy()
    if "in_stock" in items:
        raw = items["in_stock"].astype(str).str.strip().str.lower()
        ok = ~raw.isin(["0", "false", "no", "n", "0.0"])
    elif "stock" in items:
        ok = pd.to_numeric(items["stock"], errors="coerce").fillna(1.0) > 0
    else:
        ok = pd.Series(True, index=items.index)
    return pd.Series(ok.to_numpy(), index=ids)


def apply_rules(
    ranked: pd.DataFrame, k: int, items: pd.DataFrame | None = None, config: RuleConfig | None = None
) -> pd.DataFrame:
    """Filter and reshape `user_id,item_id,score` candidates into at most k rows per user, best first."""
    config = config or RuleConfig()
    df = ranked.copy()
    if config.drop_non_merchandise:
        df = df[~is_non_merchandise(df["item_id"]).to_numpy()]
    if items is not None and not items.empty:
        if config.drop_out_of_stock:
            ok = in_stock_mask(items)
            df = df[df["item_id"].map(ok).fillna(True).astype(bool).to_numpy()]
        if config.boost_column and config.boost_column in items:
            raw = pd.to_numeric(items[config.boost_column], errors="coerce")
            span = (raw.max() - raw.min()) or 1.0
            boost = pd.Series(((raw - raw.min()) / span).fillna(0.0).to_numpy(), index=items["item_id"].astype(str))
            df["score"] = df["score"] + config.boost_weight * df["item_id"].map(boost).fillna(0.0).to_numpy()
    df = df.sort_values(["user_id", "score", "item_id"], ascending=[True, False, True], kind="mergesort")
    groups = item_groups(items, config) if config.max_per_group else None
    if groups is not None:
        df["_g"] = df["item_id"].map(groups).fillna("").to_numpy()
        df["_g"] = np.where(df["_g"] == "", "#" + df["item_id"], df["_g"])
        df["_n"] = df.groupby(["user_id", "_g"], sort=False).cumcount()
        # Over-represented groups are pushed below the rest rather than dropped, so short lists stay full.
        df["_over"] = df["_n"] >= config.max_per_group
        df = df.sort_values(["user_id", "_over", "score", "item_id"], ascending=[True, True, False, True])
        df = df.drop(columns=["_g", "_n", "_over"])
    df = df.groupby("user_id", sort=False).head(k).reset_index(drop=True)
    # Demoted near-duplicates keep the list's scores non-increasing.
    df["score"] = df.groupby("user_id", sort=False)["score"].cummin()
    return df
