"""A ranking model over candidate features, learned on the period just before the one it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommendations.engine import candidates as cand
from recommendations.engine.coldstart import ColdStart, ColdStartConfig
from recommendations.engine.content import Content
from recommendations.engine.interactions import InteractionConfig, Interactions, build_interactions

SCORE_FEATURES = ("popularity", "recency_frequency", "repeat", "item_knn", "ease", "als", "content")
FIXED_WEIGHTS = {
    "repeat": 1.0,
    "recency_frequency": 0.5,
    "ease": 0.4,
    "item_knn": 0.3,
    "content": 0.4,
    "popularity": 0.2,
}


@dataclass(frozen=True)
class BlendConfig:
    """Which candidates feed the ranker, how many each, and how the ranker is trained."""

    horizon_days: float = 30.0  # label window of the validation period, and the re-buy horizon
    per_candidate: int = 25
    max_history: int = 80
    pool_popular: int = 40
    pool_cold: int = 100  # per popularity signal, for users with no history
    # Items per user the ranker scores, picked by the fixed weights (None: all). 30 was best of 15..80 on the
    # Online Retail split at 2011-10-10 (the benchmark scores from 2011-11-09), and the ranker costs 2.7x less.
    rank_pool: int | None = 30
    use_als: bool = True
    use_neural: bool = False
    ranker: str = "hgb"  # "hgb" (HistGradientBoosting) or "logistic"
    negatives_per_positive: float = 20.0
    min_positives: int = 200  # fewer labelled positives than this: fixed weights instead of a learned ranker
    threads: int = 2  # threads scoring chunks of users (results do not depend on it)
    ranker_threads: int = 1  # OpenMP threads of the ranker; more spin badly on a shared two-core machine
    seed: int = 0
    ease: cand.EASEConfig = field(default_factory=cand.EASEConfig)
    als: cand.ALSConfig = field(default_factory=cand.ALSConfig)
    knn: cand.ItemKNNConfig = field(default_factory=cand.ItemKNNConfig)
    cold: ColdStartConfig = field(default_factory=ColdStartConfig)


class CandidateSet:
    """Every candidate fitted on one snapshot, plus the item and user statistics the ranker reads."""

    def __init__(
        self, inter: Interactions, items: pd.DataFrame | None, config: BlendConfig, cold_start: bool = True
    ) -> None:
        self.inter, self.config = inter, config
        models: list[cand.Candidate] = [
            cand.Popularity(),
            cand.RecencyFrequency(),
            cand.RepeatPurchase(cand.RepeatConfig(horizon_days=config.horizon_days)),
            cand.ItemKNN(config.knn),
            cand.EASE(config.ease),
            Content(),
        ]
        if config.use_als and inter.n_users >= 20:
            models.append(cand.ALS(cand.ALSConfig(**{**config.als.__dict__, "seed": config.seed})))
        if config.use_neural:
            from recommendations.engine.neural import TwoTower, TwoTowerConfig

            models.append(TwoTower(TwoTowerConfig(seed=config.seed)))
        self.models = {m.name: m.fit(inter, items) for m in models}
        # Customers with no history are ranked by one list chosen on recent new customers (engine.coldstart).
        self.cold: ColdStart | None = None
        if cold_start:
            p = inter.purchases[["user_id", "item_id", "timestamp"]]
            self.cold = ColdStart(config.cold).fit(p, inter.item_ids, inter.as_of)
        self._item_stats()
        self._user_stats()

    def _item_stats(self) -> None:
        """Recent buyers at several windows, new-customer popularity and trend per item."""
        inter = self.inter
        p = inter.purchases
        age = ((inter.as_of - p["timestamp"]) / pd.Timedelta(days=1)).to_numpy()
        pairs = p.assign(age=age).sort_values("age").drop_duplicates(["u", "i"])
        stats = {}
        for w in (7, 30, 90, 365):
            stats[f"buyers_{w}d"] = np.log1p(np.bincount(pairs["i"][pairs["age"] <= w], minlength=inter.n_items))
        first_day = p.groupby("u")["timestamp"].transform("min").dt.floor("D")
        first = p[(p["timestamp"].dt.floor("D") == first_day) & (age <= 60)].drop_duplicates(["u", "i"])
        stats["first_basket_60d"] = np.log1p(np.bincount(first["i"], minlength=inter.n_items))
        stats["trend"] = stats["buyers_30d"] - np.log1p(
            np.bincount(pairs["i"][(pairs["age"] > 30) & (pairs["age"] <= 60)], minlength=inter.n_items)
        )
        rep: cand.RepeatPurchase = self.models["repeat"]  # type: ignore[assignment]
        stats["item_rebuy_rate"] = rep.item_rate
        stats["item_tau"] = np.log1p(rep.item_tau)
        self.item_stats = pd.DataFrame(stats).astype(np.float32)

    def _user_stats(self) -> None:
        """Visits, days since last visit, breadth and visit interval per user."""
        p = self.inter.purchases
        days = p.assign(day=p["timestamp"].dt.floor("D")).drop_duplicates(["u", "day"])
        g = days.groupby("u")["day"]
        n_vis = g.size().reindex(range(self.inter.n_users), fill_value=0).to_numpy()
        last = g.max().reindex(range(self.inter.n_users))
        first = g.min().reindex(range(self.inter.n_users))
        since = ((self.inter.as_of - last) / pd.Timedelta(days=1)).fillna(999).to_numpy()
        span = ((last - first) / pd.Timedelta(days=1)).fillna(0).to_numpy()
        breadth = np.bincount(p.drop_duplicates(["u", "i"])["u"], minlength=self.inter.n_users)
        self.user_stats = pd.DataFrame(
            {
                "user_visits": np.log1p(n_vis),
                "user_days_since": np.log1p(since),
                "user_breadth": np.log1p(breadth),
                "user_interval": np.log1p(span / np.maximum(n_vis - 1, 1)),
            }
        ).astype(np.float32)
        rep: cand.RepeatPurchase = self.models["repeat"]  # type: ignore[assignment]
        pr = rep.pairs
        shape = (self.inter.n_users, self.inter.n_items)
        self.pair_n = sp.csr_matrix((pr["n"], (pr["u"], pr["i"])), shape=shape)
        self.pair_since = sp.csr_matrix((np.log1p(pr["days_since"]) + 1.0, (pr["u"], pr["i"])), shape=shape)
        self.pair_tau = sp.csr_matrix((np.log1p(pr["tau"]), (pr["u"], pr["i"])), shape=shape)

    def features(
        self, user_ids: np.ndarray, chunk: int | None = None, keep: int | None = None, scorer=None
    ) -> pd.DataFrame:
        """Candidate pool and features for each user: `user_id,item_id` plus one column per feature.

        With `keep`, only each user's `keep` best pool items by the fixed weights are returned (the ranker's pool);
        with `scorer` (feature columns -> scores), a `score` column is added chunk by chunk."""
        user_ids = np.asarray(user_ids, dtype=object)
        rows_all = self.inter.user_positions(user_ids)
        threads = max(1, self.config.threads)
        if chunk is None:
            # Users per chunk such that a dense users × items score block holds about 4M floats (16 MB). Every chunk
            # streams the dense item × item matrices of kNN and EASE once, so chunks much smaller than this spend
            # more on re-reading them than they win in cache: on Online Retail 4 chunks of ~1080 customers score
            # about 15% faster than 10 of ~430.
            chunk = max(64, 4_000_000 // max(self.inter.n_items, 1))
        # As many equal chunks per thread (at most `chunk` users each): 9 chunks on 2 threads leave one idle a ninth.
        n_chunks = max(1, -(-len(rows_all) // chunk))
        n_chunks = -(-n_chunks // threads) * threads if n_chunks > 1 else 1
        chunk = max(1, -(-len(rows_all) // n_chunks))
        starts = list(range(0, len(rows_all), chunk))
        threads = max(1, min(threads, len(starts)))

        def one(start: int) -> dict[str, np.ndarray]:
            f = self._chunk_features(user_ids[start : start + chunk], rows_all[start : start + chunk], keep)
            if scorer is not None:
                f["score"] = scorer(f)
            return f

        if threads > 1:
            # numpy and scipy.sparse release the GIL in the dense and sparse products, so chunks overlap.
            from concurrent.futures import ThreadPoolExecutor

            with threadpool_limits(1, "blas"), ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(one, starts))
        else:
            parts = [one(s) for s in starts]
        if not parts:
            parts = [one(0)]
        return pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in parts[0]})

    def _scores(self, rows: np.ndarray) -> dict[str, np.ndarray | sp.csr_matrix]:
        """Each candidate's scores for a chunk of users: dense rows, or the same dense values in a cheaper shape.

        Popularity without categories is one row for everyone (1 × items); re-buy and recency-frequency scores
        are the user's own history, so their sparse rows (when every user is known)."""
        out: dict[str, np.ndarray | sp.csr_matrix] = {}
        for name, model in self.models.items():
            if name == "popularity" and getattr(model, "category", 0) is None:
                out[name] = model.score(rows[:1])
            elif name in ("repeat", "recency_frequency") and (rows >= 0).all():
                out[name] = model.matrix[rows]  # type: ignore[attr-defined]
            else:
                out[name] = model.score(rows)
        return out

    def _pool(
        self, rows: np.ndarray, scores: dict[str, np.ndarray | sp.csr_matrix]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Boolean users × items mask (each candidate's best items, recent and first-basket hits, cold-start lists),
        and each candidate's largest score magnitude per user."""
        cfg = self.config
        pool = np.zeros((len(rows), self.inter.n_items), dtype=bool)
        tops: dict[str, np.ndarray] = {}
        for name, s in scores.items():
            n = cfg.max_history if name in ("repeat", "recency_frequency") else cfg.per_candidate
            if name == "popularity":
                n = cfg.pool_popular
            if sp.issparse(s):
                # The sparse rows give the same mask and magnitudes without a dense pass.
                tops[name] = _sparse_magnitude(s)
                _sparse_top_mask(s, n, pool)
                continue
            if len(s) < len(rows):  # the same list for every user
                pool |= _top_mask(s, n)
                tops[name] = np.repeat(_magnitude(s), len(rows))
                continue
            r, c, row_max = _top_cells(s, n)
            tops[name] = np.maximum(np.maximum(row_max, -s.min(axis=1)), 1e-9)
            pool[r, c] = True
        for col in ("buyers_7d", "first_basket_60d"):
            pool[:, self._best_items(col, cfg.per_candidate)] = True
        unknown = rows < 0
        if unknown.any():
            # Nothing personal to go on: a wider pool of popular items lets the ranker pick among them.
            for col in ("buyers_7d", "buyers_30d", "first_basket_60d", "trend"):
                pool[np.ix_(unknown, self._best_items(col, cfg.pool_cold))] = True
            if self.cold is not None:
                pool[np.ix_(unknown, self.cold.top(cfg.pool_cold))] = True
        return pool, tops

    def _best_items(self, col: str, n: int) -> np.ndarray:
        """The n items with the highest value of an item statistic (ties by lower index)."""
        return np.argsort(-self.item_stats[col].to_numpy(), kind="stable")[:n]

    def _chunk_features(self, ids: np.ndarray, rows: np.ndarray, keep: int | None) -> dict[str, np.ndarray]:
        """Feature columns for one chunk of users, as arrays."""
        scores = self._scores(rows)
        pool, tops = self._pool(rows, scores)
        r, i = _cells(pool)
        # Each score gathered once over the pool; the flat index is one cheap lookup instead of a 2-d fancy index.
        flat = r * self.inter.n_items + i
        vals = {}
        for name, s in scores.items():
            if sp.issparse(s):
                vals[name] = np.asarray(s[r, i], dtype=np.float32).ravel()
            elif len(s) < len(rows):
                vals[name] = s[0, i]
            else:
                vals[name] = s.ravel()[flat]
        if keep:
            # The ranker's cost dominates scoring: a cheap first pass (the fixed weights) keeps each user's `keep`
            # most plausible items (ties by lower item index).
            pre = np.zeros(len(r), dtype=np.float32)
            for name, w in FIXED_WEIGHTS.items():
                if name in scores:
                    pre += np.float32(w) * (vals[name] / tops[name][r])
            if self.cold is not None:
                # Customers with no history keep the cold-start list's best items.
                cold_rows = rows[r] < 0
                pre[cold_rows] = self.cold.scores[i[cold_rows]]
            order = _row_order(r, pre)
            first = np.searchsorted(r[order], np.arange(len(rows)))
            rank = np.arange(len(order)) - first[r[order]]
            sel = np.sort(order[rank < keep])
            r, i = r[sel], i[sel]
            vals = {name: v[sel] for name, v in vals.items()}
        f: dict[str, np.ndarray] = {"user_id": ids[r], "item_id": self.inter.item_ids[i]}
        for name, v in vals.items():
            f[name] = v
            f[f"{name}_rel"] = v / tops[name][r]
        u = rows[r]
        known = u >= 0
        for m, col in ((self.pair_n, "pair_n"), (self.pair_since, "pair_since"), (self.pair_tau, "pair_tau")):
            column = np.zeros(len(r), dtype=np.float32)
            if known.any():
                column[known] = np.asarray(m[u[known], i[known]]).ravel()
            f[col] = column
        f["pair_overdue"] = np.where(f["pair_n"] > 0, f["pair_since"] - 1.0 - f["pair_tau"], -5.0)
        for col in self.item_stats:
            f[col] = self.item_stats[col].to_numpy()[i]
        for col in self.user_stats:
            column = np.zeros(len(r), dtype=np.float32)
            column[known] = self.user_stats[col].to_numpy()[u[known]]
            f[col] = column
        f["known_user"] = known.astype(np.float32)
        if self.cold is not None:
            f["cold_start"] = self.cold.scores[i]
        return f


def _cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a 2-d mask (row-major order), through the flat indices: about 10x faster on a sparse mask."""
    r, c = np.divmod(np.flatnonzero(mask), mask.shape[1])
    return r, c


def _row_order(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """np.lexsort((-v, r)) for rows r and float32 values v: by row, largest value first, ties in
    their given order; one stable sort of a 64-bit key, about 5x faster than the lexsort."""
    bits = (np.float32(0) - v.astype(np.float32, copy=False)).view(np.uint32)  # 0 - v: no negative zero
    # Order-preserving map of float32 bits to unsigned integers: negatives flipped, positives above them.
    bits = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(0x80000000))
    return np.argsort((r.astype(np.uint64) << np.uint64(32)) | bits, kind="stable")


def _magnitude(s: np.ndarray) -> np.ndarray:
    """Largest magnitude per row (at least 1e-9), without an abs() copy of the score matrix."""
    return np.maximum(np.maximum(s.max(axis=1), -s.min(axis=1)), 1e-9)


def _sparse_magnitude(m: sp.csr_matrix) -> np.ndarray:
    """_magnitude of the dense rows of a sparse matrix (implicit zeros count)."""
    a = np.abs(m.data)
    out = np.zeros(m.shape[0], dtype=a.dtype)
    nz = np.flatnonzero(np.diff(m.indptr))
    if len(nz):
        out[nz] = np.maximum.reduceat(a, m.indptr[nz])
    return np.maximum(out, 1e-9)


def _sparse_top_mask(m: sp.csr_matrix, n: int, pool: np.ndarray) -> None:
    """Set in `pool` each row's n highest positive values of a sparse matrix, as _top_mask on its dense rows."""
    n = min(n, m.shape[1])
    if n <= 0:
        return
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    pos = m.data > 0
    r, c, v = rows[pos], m.indices[pos], m.data[pos]
    count = np.bincount(r, minlength=m.shape[0])
    keep = count[r] <= n
    full = np.flatnonzero(count > n)
    if len(full):
        # The n-th largest positive value of each long row: sort those rows' values, largest first.
        sel = np.flatnonzero(~keep)
        order = sel[_row_order(r[sel], v[sel])]
        first = np.searchsorted(r[order], full)
        cut = np.zeros(m.shape[0], dtype=v.dtype)
        cut[full] = v[order[first + n - 1]]
        keep |= v >= cut[r]
    pool[r[keep], c[keep]] = True


def _top_cells(s: np.ndarray, n: int, blocks: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of _top_mask(s, n)'s cells, and each row's maximum, without partitioning every row.

    Column j falls in block j % blocks. The n-th largest block maximum is a lower bound of the n-th largest value
    (n blocks hold a value at least that large), so only the few values above it (about n per row when the
    scores are spread over the blocks) are sorted to find each row's exact cut."""
    m, w = s.shape
    width = w // blocks
    if n >= blocks or width < 2:
        r, c = _cells(_top_mask(s, n))
        return r, c, s.max(axis=1) if w else np.zeros(m, dtype=s.dtype)
    head = s[:, : blocks * width].reshape(m, width, blocks).max(axis=1)
    tail = w - blocks * width
    if tail:
        np.maximum(head[:, :tail], s[:, blocks * width :], out=head[:, :tail])
    lower = np.partition(head, blocks - n, axis=1)[:, blocks - n]
    # Positive values only: below n positive blocks the bound is the smallest positive number.
    lower = np.maximum(lower, np.nextafter(s.dtype.type(0), s.dtype.type(1)))
    flat = np.flatnonzero(s >= lower[:, None])
    r = flat // w
    v = s.ravel()[flat]
    count = np.bincount(r, minlength=m)
    cut = lower
    long = np.flatnonzero(count > n)
    if len(long):
        # Each row's values, largest first, start where the row starts.
        order = _row_order(r, v)
        start = np.cumsum(count) - count
        cut[long] = v[order[start[long] + n - 1]]
    keep = v >= cut[r]
    r, c = np.divmod(flat[keep], w)
    return r, c, head.max(axis=1)


def _top_mask(s: np.ndarray, n: int) -> np.ndarray:
    """Mask of each row's n highest positive values (ties at the cut kept)."""
    n = min(n, s.shape[1])
    if n <= 0:
        return np.zeros(s.shape, dtype=bool)
    mask = s > 0
    # Only rows with more than n positive values need a cut (often few: histories are short).
    many = np.count_nonzero(mask, axis=1) > n
    full = np.flatnonzero(many)
    if len(full) * 2 >= len(s):
        # Mostly long rows (the dense candidates): one partition of the whole block, no row gather and scatter.
        # Short rows get the smallest positive value as their cut, which keeps exactly their positive values.
        kth = s.shape[1] - n
        cut = np.partition(s, kth, axis=1)[:, kth]
        cut[~many] = np.nextafter(s.dtype.type(0), s.dtype.type(1))
        np.greater_equal(s, cut[:, None], out=mask)
    elif len(full):
        sub = s[full]
        kth = s.shape[1] - n
        cut = np.partition(sub, kth, axis=1)[:, kth]
        mask[full] = sub >= cut[:, None]
    return mask


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every model input column of a candidate frame."""
    # The cold-start score only ranks customers with no history; the ranker learns from the rest.
    return [c for c in frame.columns if c not in ("user_id", "item_id", "label", "cold_start")]


def fixed_blend(frame: pd.DataFrame) -> np.ndarray:
    """Weighted sum of per-user-normalised candidate scores (used when there is too little history to learn)."""
    out = np.zeros(len(frame))
    for name, w in FIXED_WEIGHTS.items():
        if f"{name}_rel" in frame:
            out += w * frame[f"{name}_rel"].to_numpy()
    return out


@dataclass
class Blend:
    """A fitted blend: the ranker, the snapshot it scores from, and its validation figures."""

    config: BlendConfig
    candidates: CandidateSet
    ranker: object | None
    columns: list[str]
    train_rows: int = 0
    train_positives: int = 0

    def score_frame(self, user_ids) -> pd.DataFrame:
        """`user_id,item_id,score` plus the features, for the pool of each user."""
        ids = np.asarray([str(u) for u in user_ids], dtype=object)
        if self.ranker is None:
            frame = self.candidates.features(ids)
            frame["score"] = fixed_blend(frame)
        else:
            frame = self.candidates.features(ids, keep=self.config.rank_pool, scorer=self._rank)
        if "cold_start" in frame:
            # No history: the cold-start list ranks them (chosen on recent new customers, see engine.coldstart).
            new = frame["known_user"].to_numpy() == 0
            frame.loc[new, "score"] = frame.loc[new, "cold_start"].to_numpy(np.float64)
        return frame

    def _rank(self, f: dict[str, np.ndarray]) -> np.ndarray:
        """Ranker probability for feature columns (one chunk of users)."""
        # float32 values as trained, in float64 columns: binning reads one feature at a time.
        x = np.empty((len(f["user_id"]), len(self.columns)), dtype=np.float64, order="F")
        for j, c in enumerate(self.columns):
            x[:, j] = f[c].astype(np.float32, copy=False)
        with threadpool_limits(self.config.ranker_threads, "openmp"):
            if _binnable(self.ranker):
                return _binned_proba(self.ranker, x, self.config.ranker_threads)
            score = np.empty(len(x))
            ranker: Any = self.ranker  # any fitted classifier with predict_proba
            # Blocks that stay in cache while every tree walks them: the whole matrix streamed once per tree is
            # memory-bound and about 1.5x slower. The prediction releases the GIL, so chunks overlap in threads.
            for s in range(0, len(x), 8192):
                score[s : s + 8192] = ranker.predict_proba(x[s : s + 8192])[:, 1]
        return score

    def recommend(self, user_ids, k: int, exclude_seen: bool = False) -> pd.DataFrame:
        """Top-k `user_id,item_id,score` per user from the blended pool."""
        frame = self.score_frame(user_ids)
        if exclude_seen:
            frame = frame[frame["pair_n"] == 0]
        frame = frame.sort_values(["user_id", "score", "item_id"], ascending=[True, False, True], kind="mergesort")
        return frame.groupby("user_id", sort=False).head(k)[["user_id", "item_id", "score"]].reset_index(drop=True)


def _binnable(model) -> bool:
    """A fitted binary HistGradientBoostingClassifier on numeric features only (see _binned_proba)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    mapper = getattr(model, "_bin_mapper", None)
    return (
        isinstance(model, HistGradientBoostingClassifier)
        and mapper is not None
        and getattr(model, "n_trees_per_iteration_", 0) == 1
        and not np.any(getattr(mapper, "is_categorical_", None) is None or mapper.is_categorical_)
    )


def _binned_proba(model, x: np.ndarray, n_threads: int, block: int = 16384) -> np.ndarray:
    """P(class 1) of a HistGradientBoostingClassifier, as predict_proba, with the trees walking binned features.

    A split sends x left when x <= the upper edge of its bin, and binning maps x to the number of edges below it,
    so the binned walk takes the same branches (it is how the model walks its training data). One byte per
    feature instead of eight keeps a block of rows in cache for every tree: about 1.3x faster. The leaves are
    added in predict_proba's order, so the probabilities are the same."""
    raw = np.zeros((len(x), 1), dtype=model._baseline_prediction.dtype, order="F")
    raw += model._baseline_prediction
    for s in range(0, len(x), block):
        binned = model._bin_mapper.transform(x[s : s + block])
        model._predict_iterations(binned, model._predictors, raw[s : s + block], True, n_threads)
    return model._loss.predict_proba(raw)[:, 1]


def _make_ranker(config: BlendConfig):
    """The configured classifier, seeded."""
    if config.ranker == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=50, l2_regularization=1.0,
        early_stopping=False, random_state=config.seed,
    )  # fmt: skip


def fit_blend(
    events: pd.DataFrame,
    items: pd.DataFrame | None = None,
    config: BlendConfig | None = None,
    as_of: pd.Timestamp | None = None,
    interaction_config: InteractionConfig | None = None,
) -> Blend:
    """Learn the ranker on [as_of − horizon, as_of), then refit every candidate on everything before as_of."""
    # `events` are cleaned (interactions.clean_events). Candidates of the validation fit see only events
    # before the window and the labels come from inside it; nothing at or after `as_of` is ever read.
    config = config or BlendConfig()
    end = pd.Timestamp(as_of) if as_of is not None else events["timestamp"].max() + pd.Timedelta(seconds=1)
    history = events[events["timestamp"] < end]
    extra = items["item_id"].astype(str).unique() if items is not None and "item_id" in items else None
    val_start = end - pd.Timedelta(days=config.horizon_days)
    ranker, columns, n_rows, n_pos = None, [], 0, 0
    past = history[history["timestamp"] < val_start]
    window = history[(history["timestamp"] >= val_start) & (history["event"] == "purchase")]
    if len(past) and window["user_id"].nunique() >= 10:
        inter_v = build_interactions(past, interaction_config, as_of=val_start, clean=False, extra_items=extra)
        cs_v = CandidateSet(inter_v, items, config, cold_start=False)
        users = np.array(sorted(window["user_id"].unique()), dtype=object)
        frame = cs_v.features(users)
        bought = set(zip(window["user_id"], window["item_id"], strict=True))
        frame["label"] = [(u, i) in bought for u, i in zip(frame["user_id"], frame["item_id"], strict=True)]
        n_pos = int(frame["label"].sum())
        if n_pos >= config.min_positives and n_pos < len(frame):
            rng = np.random.default_rng(config.seed)
            neg = np.flatnonzero(~frame["label"].to_numpy())
            keep_n = min(len(neg), int(config.negatives_per_positive * n_pos))
            keep = np.sort(np.r_[np.flatnonzero(frame["label"].to_numpy()), rng.choice(neg, keep_n, replace=False)])
            train = frame.iloc[keep]
            columns = feature_columns(frame)
            ranker = _make_ranker(config)
            with threadpool_limits(config.ranker_threads, "openmp"):
                ranker.fit(train[columns].to_numpy(np.float32), train["label"].to_numpy())
            n_rows = len(train)
    inter = build_interactions(history, interaction_config, as_of=end, clean=False, extra_items=extra)
    return Blend(config, CandidateSet(inter, items, config), ranker, columns, n_rows, n_pos)
