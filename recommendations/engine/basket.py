"""Bought-together: pairwise association rules (support, confidence, lift) over baskets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class BasketConfig:
    """Minimum evidence for a rule `A → B`, and how rules are ranked."""

    min_support: float = 0.001  # share of baskets holding both items
    min_count: int = 2  # and at least this many baskets
    min_confidence: float = 0.0
    rank_by: str = "confidence"  # "confidence" or "lift"
    smoothing: float = 5.0  # pseudo-baskets pulling a basket's confidences towards the item's base rate


class BoughtTogether:
    """Pair rules from a basket × item matrix; answers for one product or for a whole basket."""

    def __init__(self, config: BasketConfig | None = None) -> None:
        self.config = config or BasketConfig()

    def fit(self, lines: pd.DataFrame) -> BoughtTogether:
        """Learn from `basket_id,item_id` rows (duplicates within a basket count once)."""
        df = lines[["basket_id", "item_id"]].astype(str).drop_duplicates()
        self.item_ids = np.array(sorted(df["item_id"].unique()), dtype=object)
        self.item_index = {i: n for n, i in enumerate(self.item_ids)}
        b = pd.Categorical(df["basket_id"]).codes
        i = pd.Categorical(df["item_id"], categories=self.item_ids).codes
        x = sp.csr_matrix((np.ones(len(df), dtype=np.float32), (b, i)), shape=(b.max() + 1, len(self.item_ids)))
        self.n_baskets = x.shape[0]
        co = (x.T @ x).tocsr()
        self.item_count = co.diagonal().astype(np.float64)
        co.setdiag(0)
        co.eliminate_zeros()
        co = co.tocoo()
        cfg = self.config
        keep = (co.data >= max(cfg.min_count, cfg.min_support * self.n_baskets)) & (co.row != co.col)
        a, c, n = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
        conf = n / self.item_count[a]
        lift = conf / (self.item_count[c] / self.n_baskets)
        ok = conf >= cfg.min_confidence
        self.rules = pd.DataFrame(
            {
                "antecedent": self.item_ids[a[ok]],
                "consequent": self.item_ids[c[ok]],
                "support": n[ok] / self.n_baskets,
                "confidence": conf[ok],
                "lift": lift[ok],
                "count": n[ok].astype(np.int64),
            }
        )
        key = self.rules[cfg.rank_by].to_numpy()
        shape = (len(self.item_ids), len(self.item_ids))
        self.rule_matrix = sp.csr_matrix((key, (a[ok], c[ok])), shape=shape)
        self.pair_counts = sp.csr_matrix((n[ok], (a[ok], c[ok])), shape=shape)
        self.popularity = self.item_count / max(self.n_baskets, 1)
        return self

    def for_item(self, item_id: str, k: int = 10) -> pd.DataFrame:
        """Top-k rules `A → B` for one product, with support, confidence and lift."""
        r = self.rules[self.rules["antecedent"] == str(item_id)]
        return (
            r.sort_values([self.config.rank_by, "consequent"], ascending=[False, True]).head(k).reset_index(drop=True)
        )

    def for_basket(self, basket: list[str], k: int = 10, fill_popular: bool = True) -> pd.DataFrame:
        """Items to add to a basket: mean smoothed confidence over the basket's items, popularity filling."""
        cols = [self.item_index[i] for i in map(str, basket) if i in self.item_index]
        m = self.config.smoothing
        score = np.zeros(len(self.item_ids))
        if cols:
            counts = self.pair_counts[cols].toarray()
            base = self.popularity[None, :]
            # A rule seen in few baskets is pulled towards the consequent's base rate (plain popularity).
            smoothed = (counts + m * base) / (self.item_count[cols][:, None] + m)
            score = smoothed.mean(axis=0)
        # Popularity orders items that no rule reaches.
        score = score + (1e-6 * self.popularity if fill_popular else 0.0)
        score[cols] = -np.inf
        order = np.lexsort((np.arange(len(score)), -score))[:k]
        order = order[np.isfinite(score[order]) & (score[order] > 0)]
        return pd.DataFrame({"item_id": self.item_ids[order], "score": score[order]})
