"""Offline ranking metrics on a time split: Recall@k, NDCG@k, hit rate, catalogue coverage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metrics:
    """Mean per-user metrics at k, plus catalogue coverage of all recommended lists."""

    k: int
    users: int
    recall: float
    ndcg: float
    hit_rate: float
    coverage: float

    def as_dict(self) -> dict[str, float]:
        """Plain dict for printing and storing with a model version."""
        return {
            "users": self.users,
            f"recall@{self.k}": self.recall,
            f"ndcg@{self.k}": self.ndcg,
            f"hit@{self.k}": self.hit_rate,
            "coverage": self.coverage,
        }


def truth_sets(future: pd.DataFrame) -> dict[str, set[str]]:
    """User id → set of item ids bought in the evaluation period."""
    f = future[["user_id", "item_id"]].astype(str).drop_duplicates()
    return {u: set(g) for u, g in f.groupby("user_id")["item_id"]}


def evaluate(recs: pd.DataFrame, truth: dict[str, set[str]], k: int, n_catalogue: int) -> Metrics:
    """Metrics over users in `truth` (a user without recommendations scores zero); binary gains."""
    # Recall@k is hits / min(k, |relevant|): a wholesaler buying 80 items can still reach 1.
    r = recs.sort_values(["user_id", "score"], ascending=[True, False], kind="mergesort")
    r = r.groupby("user_id", sort=False).head(k)
    lists = {u: g.tolist() for u, g in r.groupby("user_id", sort=False)["item_id"]}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    rec, ndcg, hit = [], [], []
    for u, rel in truth.items():
        items = lists.get(u, [])
        gains = np.array([1.0 if i in rel else 0.0 for i in items[:k]])
        n_hits = gains.sum()
        rec.append(n_hits / min(k, len(rel)))
        ideal = discounts[: min(k, len(rel))].sum()
        ndcg.append(float((gains * discounts[: len(gains)]).sum() / ideal) if len(gains) else 0.0)
        hit.append(1.0 if n_hits > 0 else 0.0)
    shown = r[r["user_id"].isin(list(truth))]["item_id"].nunique()
    return Metrics(
        k=k,
        users=len(truth),
        recall=float(np.mean(rec)) if rec else 0.0,
        ndcg=float(np.mean(ndcg)) if ndcg else 0.0,
        hit_rate=float(np.mean(hit)) if hit else 0.0,
        coverage=shown / max(n_catalogue, 1),
    )
