"""Content-based scoring from item descriptions and attributes (TF-IDF), for new items and thin histories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from recommendations.engine.candidates import Candidate, _per_known, top_k
from recommendations.engine.interactions import Interactions

TEXT_COLUMNS = ("description", "name", "title", "category", "subcategory", "brand")


@dataclass(frozen=True)
class ContentConfig:
    """TF-IDF over item text; users are the decayed sum of what they bought."""

    min_df: int = 2
    ngram_max: int = 2
    max_features: int = 20000
    dense_max_terms: int = 8000  # up to this vocabulary, score through dense profiles (faster, same values)


def item_text(items: pd.DataFrame | None, item_ids: np.ndarray) -> list[str]:
    """One text per item id from every descriptive column present (empty when unknown)."""
    if items is None or items.empty:
        return [""] * len(item_ids)
    cols = [c for c in TEXT_COLUMNS if c in items]
    if not cols:
        return [""] * len(item_ids)
    df = items.assign(item_id=items["item_id"].astype(str)).drop_duplicates("item_id").set_index("item_id")
    text = df[cols].fillna("").astype(str).agg(" ".join, axis=1)
    return pd.Series(item_ids).map(text).fillna("").str.lower().tolist()


def _transpose(a: np.ndarray, step: int = 256) -> np.ndarray:
    """A C-ordered copy of a.T, a band of rows at a time (about 3x faster than np.ascontiguousarray(a.T))."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype)
    for k in range(0, a.shape[0], step):
        out[:, k : k + step] = a[k : k + step].T
    return out


class Content(Candidate):
    """Similarity between an item's text and the texts of the items a user bought."""

    name = "content"

    def __init__(self, config: ContentConfig | None = None) -> None:
        self.config = config or ContentConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> Content:
        """Fit TF-IDF on the catalogue text (l2-normalised rows)."""
        super().fit(inter, items)
        texts = item_text(items, inter.item_ids)
        self.vectors = sp.csr_matrix((inter.n_items, 1), dtype=np.float32)
        if any(texts):
            vec = TfidfVectorizer(
                min_df=min(self.config.min_df, max(1, len([t for t in texts if t]) // 2)),
                ngram_range=(1, self.config.ngram_max),
                max_features=self.config.max_features,
                sublinear_tf=True,
            )
            try:
                self.vectors = vec.fit_transform(texts).astype(np.float32).tocsr()
            except ValueError:  # nothing but stop words
                pass
        self.vectors.sort_indices()
        prof = inter.matrix @ self.vectors
        norms = np.sqrt(np.asarray(prof.multiply(prof).sum(axis=1)).ravel())
        self.profiles = (sp.diags(1.0 / np.maximum(norms, 1e-9)) @ prof).tocsr()
        # Terms in order in every row: each score sums its terms in the same order whichever product computes it.
        self.profiles.sort_indices()
        self._vectors_t = self.vectors.T.tocsr()
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Cosine between the user's profile and each item's text; zero for unknown users."""
        if self.vectors.shape[1] <= self.config.dense_max_terms:
            # Items' texts hold a few terms and profiles many: walking each item's terms over dense profile columns
            # is far less work than the sparse × sparse product (about 3x faster, transposes included).
            return _per_known(
                rows,
                self.inter.n_items,
                lambda r: _transpose(self.vectors @ self.profiles[r].T.toarray(order="C")),
            )
        return _per_known(rows, self.inter.n_items, lambda r: (self.profiles[r] @ self._vectors_t).toarray())

    def score_items_for(self, bought: list[list[str]]) -> np.ndarray:
        """Scores for ad-hoc histories given as item id lists (e.g. a basket of a guest)."""
        out = np.zeros((len(bought), self.inter.n_items), dtype=np.float32)
        for r, ids in enumerate(bought):
            cols = [self.inter.item_index[i] for i in ids if i in self.inter.item_index]
            if cols:
                prof = np.asarray(self.vectors[cols].sum(axis=0)).ravel()
                out[r] = self.vectors @ (prof / (np.linalg.norm(prof) + 1e-9))
        return out

    def item_similarity(self) -> sp.csr_matrix:
        """Text cosine, top 50 per item."""
        if getattr(self, "_sim", None) is None:
            sim = (self.vectors @ self.vectors.T).toarray()
            np.fill_diagonal(sim, 0)
            idx, vals = top_k(sim, 50)
            rows = np.repeat(np.arange(sim.shape[0]), idx.shape[1])
            self._sim = sp.csr_matrix((vals.ravel(), (rows, idx.ravel())), shape=sim.shape)
            self._sim.eliminate_zeros()
        return self._sim
