"""Candidate recommenders behind one interface: fit, score, recommend, similar_items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import gammaincc

from recommendations.engine.interactions import Interactions


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k best scores per row, best first (ties by lower index)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64), np.zeros((scores.shape[0], 0))
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    return idx, np.take_along_axis(scores, idx, axis=1)


def cosine_topn(x: sp.csr_matrix, shrink: float, n_neighbours: int) -> sp.csr_matrix:
    """Item × item cosine similarity of the columns of x, shrunk, keeping the top-N neighbours per item."""
    xc = x.tocsc().astype(np.float32)
    co = (xc.T @ xc).toarray()
    norms = np.sqrt(np.diag(co)).astype(np.float32)
    sim = co / (np.outer(norms, norms) + shrink + 1e-9)
    np.fill_diagonal(sim, 0.0)
    idx, vals = top_k(sim, n_neighbours)
    rows = np.repeat(np.arange(sim.shape[0]), idx.shape[1])
    out = sp.csr_matrix((vals.ravel(), (rows, idx.ravel())), shape=sim.shape)
    out.eliminate_zeros()
    return out


def column_blocks(m: np.ndarray | sp.spmatrix, width: int = 64) -> list[np.ndarray]:
    """A matrix as contiguous dense float32 blocks of `width` columns (see blocked_product)."""
    dense = m.toarray() if isinstance(m, sp.spmatrix | sp.sparray) else np.asarray(m)
    return [np.ascontiguousarray(dense[:, c : c + width], dtype=np.float32) for c in range(0, dense.shape[1], width)]


def blocked_product(x: sp.csr_matrix, blocks: list[np.ndarray]) -> np.ndarray:
    """x @ (the blocks side by side) as a dense float32 array: the same sums, in the same order, as x @ m.

    A sparse row times a dense matrix reads one matrix row per stored value; a whole item × item matrix does not
    stay in cache, a block of 64 columns (under 1 MB for 4000 rows) does, so this is 1.5-2x faster."""
    n_cols = sum(b.shape[1] for b in blocks)
    out = np.empty((x.shape[0], n_cols), dtype=np.float32)
    c = 0
    for b in blocks:
        out[:, c : c + b.shape[1]] = x @ b
        c += b.shape[1]
    return out


class Candidate:
    """One candidate generator: fit on interactions, score known users over the shared item space."""

    name = "candidate"

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> Candidate:
        """Learn from the interactions (and optional item attributes)."""
        self.inter = inter
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores (len(rows) × n_items); rows are user positions, -1 for unknown users."""
        raise NotImplementedError

    def recommend(self, user_ids, k: int, exclude_seen: bool = False) -> pd.DataFrame:
        """Top-k `user_id,item_id,score` per user (unknown users get rows only if the model scores them)."""
        user_ids = np.asarray([str(u) for u in user_ids], dtype=object)
        rows = self.inter.user_positions(user_ids)
        frames = []
        seen = self.inter.binary() if exclude_seen else None
        for start in range(0, len(rows), 1024):
            r = rows[start : start + 1024]
            s = self.score(r).astype(np.float64)
            if seen is not None:
                known = r >= 0
                s[known] = np.where(seen[r[known]].toarray() > 0, -np.inf, s[known])
            idx, vals = top_k(s, k)
            keep = np.isfinite(vals) & (vals > 0)
            frames.append(
                pd.DataFrame(
                    {
                        "user_id": np.repeat(user_ids[start : start + 1024], idx.shape[1])[keep.ravel()],
                        "item_id": self.inter.item_ids[idx.ravel()][keep.ravel()],
                        "score": vals.ravel()[keep.ravel()],
                    }
                )
            )
        if not frames:
            return pd.DataFrame(columns=["user_id", "item_id", "score"])
        return pd.concat(frames, ignore_index=True)

    def item_similarity(self) -> sp.csr_matrix:
        """Item × item similarity used by similar_items (co-purchase cosine by default)."""
        if getattr(self, "_sim", None) is None:
            self._sim = cosine_topn(self.inter.binary(), shrink=10.0, n_neighbours=50)
        return self._sim

    def similar_items(self, item_ids, k: int) -> pd.DataFrame:
        """Top-k `item_id,similar_item_id,score` for each known item."""
        sim = self.item_similarity()
        out = []
        for item in item_ids:
            j = self.inter.item_index.get(str(item))
            if j is None:
                continue
            row = sim[j].toarray().ravel()
            idx, vals = top_k(row[None, :], k)
            for c, v in zip(idx[0], vals[0], strict=True):
                if v > 0:
                    out.append((str(item), self.inter.item_ids[c], float(v)))
        return pd.DataFrame(out, columns=["item_id", "similar_item_id", "score"])


def _known(rows: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero score block and the mask of known users."""
    return np.zeros((len(rows), n_items), dtype=np.float32), rows >= 0


def _per_known(rows: np.ndarray, n_items: int, fn) -> np.ndarray:
    """float32 scores fn(known rows) in place, zero rows for unknown users."""
    known = rows >= 0
    if len(rows) and known.all():
        # Every user known (the usual batch): no zero block to fill, which is a full extra pass over the scores.
        return np.asarray(fn(rows), dtype=np.float32)
    s = np.zeros((len(rows), n_items), dtype=np.float32)
    if known.any():
        s[known] = fn(rows[known])
    return s


@dataclass(frozen=True)
class PopularityConfig:
    """Recent-window popularity, counted in distinct buyers."""

    window_days: int = 60
    half_life_days: float = 30.0


class Popularity(Candidate):
    """Most-bought items in a recent window (distinct buyers, decayed), tilted to a user's categories."""

    name = "popularity"

    def __init__(self, config: PopularityConfig | None = None) -> None:
        self.config = config or PopularityConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> Popularity:
        """Count recent distinct buyers per item; map items to categories when the catalogue has one."""
        super().fit(inter, items)
        p = inter.purchases
        age = ((inter.as_of - p["timestamp"]) / pd.Timedelta(days=1)).to_numpy()
        recent = p[age <= self.config.window_days]
        w = np.power(0.5, age[age <= self.config.window_days] / self.config.half_life_days)
        first = recent.assign(w=w).sort_values("w").drop_duplicates(["u", "i"], keep="last")
        pop = np.bincount(first["i"], weights=first["w"], minlength=inter.n_items)
        # All-time buyers break ties among items with no recent sales.
        allt = np.bincount(p.drop_duplicates(["u", "i"])["i"], minlength=inter.n_items)
        self.pop = (pop + 1e-3 * allt / max(allt.max(), 1)).astype(np.float32)
        self.category = None
        if items is not None and "category" in items:
            cat = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")["category"]
            codes = pd.Categorical(pd.Series(inter.item_ids).map(cat).fillna("").to_numpy())
            self.category_names = np.asarray(codes.categories, dtype=object)
            self.category = codes.codes.astype(np.int64)
            onehot = sp.csr_matrix(
                (np.ones(inter.n_items, dtype=np.float32), (np.arange(inter.n_items), self.category)),
                shape=(inter.n_items, len(codes.categories)),
            )
            share = inter.binary() @ onehot
            tot = np.asarray(share.sum(axis=1)).ravel()
            self.user_cat_share = sp.diags(1.0 / np.maximum(tot, 1)) @ share
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Popularity for everyone; with categories, multiplied by (1 + the user's share of that category)."""
        s = np.tile(self.pop, (len(rows), 1))
        if self.category is not None:
            known = rows >= 0
            if known.any():
                share = self.user_cat_share[rows[known]].toarray()[:, self.category]
                s[known] *= 1.0 + share
        return s

    def similar_items(self, item_ids, k: int) -> pd.DataFrame:
        """Most popular other items of the same category (or overall)."""
        out = []
        for item in item_ids:
            j = self.inter.item_index.get(str(item))
            if j is None:
                continue
            s = self.pop.copy()
            if self.category is not None:
                s = np.where(self.category == self.category[j], s, s * 1e-3)
            s[j] = -np.inf
            idx, vals = top_k(s[None, :], k)
            out += [(str(item), self.inter.item_ids[c], float(v)) for c, v in zip(idx[0], vals[0], strict=True)]
        return pd.DataFrame(out, columns=["item_id", "similar_item_id", "score"])


@dataclass(frozen=True)
class RecencyFrequencyConfig:
    """Decayed count of a user's own purchase days per item."""

    half_life_days: float = 60.0


class RecencyFrequency(Candidate):
    """Baseline: the items this user bought most, recent purchases weighing more."""

    name = "recency_frequency"

    def __init__(self, config: RecencyFrequencyConfig | None = None) -> None:
        self.config = config or RecencyFrequencyConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> RecencyFrequency:
        """Sum decayed purchase days per user × item."""
        super().fit(inter, items)
        p = inter.purchases
        days = p.assign(day=p["timestamp"].dt.floor("D")).drop_duplicates(["u", "i", "day"])
        age = ((inter.as_of - days["day"]) / pd.Timedelta(days=1)).to_numpy()
        w = np.power(0.5, age / self.config.half_life_days).astype(np.float32)
        self.matrix = sp.csr_matrix((w, (days["u"], days["i"])), shape=(inter.n_users, inter.n_items))
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Decayed purchase-day counts; zero for unknown users."""
        return _per_known(rows, self.inter.n_items, lambda r: self.matrix[r].toarray())


@dataclass(frozen=True)
class RepeatConfig:
    """Re-buy cycle model: per user × item interval, shrunk towards the item's pooled interval."""

    horizon_days: float = 7.0  # how far ahead "due" looks: the refresh period of the recommendations
    prior_intervals: float = 1.0  # weight (in observed intervals) of the item's pooled interval
    prior_buyers: float = 3.0  # weight (in observed purchases) of the item's re-buy rate
    max_shape: float = 12.0  # cap on the gamma shape (very regular buyers)
    overdue_tolerance: float = 2.0  # cycles overdue before the item is taken as dropped


class RepeatPurchase(Candidate):
    """Per user × item re-buy cycle: probability of buying again within the horizon, given time since last."""

    name = "repeat"

    def __init__(self, config: RepeatConfig | None = None) -> None:
        self.config = config or RepeatConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> RepeatPurchase:
        """Estimate per pair interval and regularity, pooled per item, and the item's re-buy rate."""
        super().fit(inter, items)
        cfg = self.config
        p = inter.purchases
        d = (
            p.assign(day=(p["timestamp"].dt.floor("D") - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
            .drop_duplicates(["u", "i", "day"])
            .sort_values(["u", "i", "day"])
        )
        u, i, day = d["u"].to_numpy(), d["i"].to_numpy(), d["day"].to_numpy(dtype=float)
        same = np.r_[False, (u[1:] == u[:-1]) & (i[1:] == i[:-1])]
        gap = np.where(same, day - np.r_[day[0] if len(day) else 0.0, day[:-1]], np.nan)
        g = pd.DataFrame({"u": u, "i": i, "day": day, "gap": gap})
        pair = g.groupby(["u", "i"], sort=True).agg(
            n=("day", "size"), last=("day", "max"), gap_mean=("gap", "mean"), gap_std=("gap", "std")
        )
        pair = pair.reset_index()
        gaps = g.dropna(subset=["gap"])
        glob_tau = float(np.median(gaps["gap"])) if len(gaps) else 30.0
        glob_cv = float(np.std(gaps["gap"]) / max(np.mean(gaps["gap"]), 1e-9)) if len(gaps) > 1 else 1.0
        item_tau = np.full(inter.n_items, glob_tau)
        item_cv = np.full(inter.n_items, glob_cv)
        if len(gaps):
            by_item = gaps.groupby("i")["gap"]
            med, cnt = by_item.median(), by_item.size()
            cv = (by_item.std() / by_item.mean()).fillna(glob_cv)
            w = cnt / (cnt + 3.0)
            item_tau[med.index] = w * med + (1 - w) * glob_tau
            item_cv[cv.index] = w * cv + (1 - w) * glob_cv
        n_pairs = np.bincount(pair["i"], minlength=inter.n_items)
        n_rep = np.bincount(pair["i"], weights=(pair["n"] >= 2).astype(float), minlength=inter.n_items)
        glob_rate = n_rep.sum() / max(n_pairs.sum(), 1)
        self.item_rate = (n_rep + 5.0 * glob_rate) / (n_pairs + 5.0)
        self.item_tau, self.item_cv = item_tau, item_cv
        n = pair["n"].to_numpy(dtype=float)
        k_obs = np.maximum(n - 1, 0)
        gap_mean = pair["gap_mean"].fillna(0.0).to_numpy()
        ii = pair["i"].to_numpy()
        tau = (k_obs * gap_mean + cfg.prior_intervals * item_tau[ii]) / (k_obs + cfg.prior_intervals)
        own_cv = (pair["gap_std"] / pair["gap_mean"]).to_numpy()
        w_cv = np.where(np.isfinite(own_cv), np.maximum(n - 2, 0) / (np.maximum(n - 2, 0) + 2.0), 0.0)
        cv = w_cv * np.nan_to_num(own_cv) + (1 - w_cv) * item_cv[ii]
        as_of_day = (inter.as_of - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        t = np.maximum(as_of_day - pair["last"].to_numpy(), 0.0)
        rate = (k_obs + cfg.prior_buyers * self.item_rate[ii]) / (k_obs + cfg.prior_buyers)
        self.pairs = pd.DataFrame(
            {"u": pair["u"], "i": ii, "n": n, "days_since": t, "tau": np.maximum(tau, 1.0), "cv": cv, "rate": rate}
        )
        self.pairs["score"] = self._prob(self.pairs)
        self.matrix = sp.csr_matrix(
            (self.pairs["score"].to_numpy(np.float32), (self.pairs["u"], self.pairs["i"])),
            shape=(inter.n_users, inter.n_items),
        )
        return self

    def _prob(self, pairs: pd.DataFrame) -> np.ndarray:
        """P(re-buy) × P(next purchase falls in the horizon | none since last) × P(not dropped)."""
        cfg = self.config
        shape = np.clip(1.0 / np.maximum(pairs["cv"].to_numpy(), 1e-3) ** 2, 1.0, cfg.max_shape)
        scale = pairs["tau"].to_numpy() / shape
        t = pairs["days_since"].to_numpy()
        surv_t = gammaincc(shape, t / scale)
        surv_h = gammaincc(shape, (t + cfg.horizon_days) / scale)
        due = np.where(surv_t > 1e-12, (surv_t - surv_h) / np.maximum(surv_t, 1e-12), 1.0)
        overdue = t / pairs["tau"].to_numpy()
        alive = np.exp(-np.maximum(overdue - cfg.overdue_tolerance, 0.0) / cfg.overdue_tolerance)
        return pairs["rate"].to_numpy() * due * alive

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Re-buy probability for items the user bought; zero elsewhere."""
        return _per_known(rows, self.inter.n_items, lambda r: self.matrix[r].toarray())


@dataclass(frozen=True)
class ItemKNNConfig:
    """Item-to-item cosine with shrinkage, top-N neighbours kept."""

    shrink: float = 20.0
    n_neighbours: int = 100
    dense_max_items: int = 5000  # up to this many items, score through a dense copy of the neighbours (faster)


class ItemKNN(Candidate):
    """Item-to-item collaborative filtering; a user scores items through the items they bought."""

    name = "item_knn"

    def __init__(self, config: ItemKNNConfig | None = None) -> None:
        self.config = config or ItemKNNConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> ItemKNN:
        """Sparse top-N cosine neighbours from the bought-or-not matrix."""
        super().fit(inter, items)
        self._sim = cosine_topn(inter.binary(), self.config.shrink, self.config.n_neighbours)
        self._sim_t = self._sim.T.tocsr()
        self._blocks = column_blocks(self._sim_t) if inter.n_items <= self.config.dense_max_items else None
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Recency-weighted history times neighbour similarity."""
        if self._blocks is not None:
            return _per_known(rows, self.inter.n_items, lambda r: blocked_product(self.inter.matrix[r], self._blocks))
        return _per_known(rows, self.inter.n_items, lambda r: (self.inter.matrix[r] @ self._sim_t).toarray())


@dataclass(frozen=True)
class EASEConfig:
    """Closed-form EASE on the most-bought items."""

    l2: float = 300.0
    max_items: int = 4000


class EASE(Candidate):
    """Embarrassingly shallow autoencoder (Steck 2019), closed form on the top-N items."""

    name = "ease"

    def __init__(self, config: EASEConfig | None = None) -> None:
        self.config = config or EASEConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> EASE:
        """B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, over the most-bought items."""
        super().fit(inter, items)
        x = inter.binary()
        counts = np.asarray(x.sum(axis=0)).ravel()
        keep = np.sort(np.argsort(-counts, kind="stable")[: self.config.max_items])
        keep = keep[counts[keep] > 0]
        self.cols = keep
        xs = x[:, keep].tocsc()
        g = (xs.T @ xs).toarray().astype(np.float64)
        g[np.diag_indices_from(g)] += self.config.l2
        p = np.linalg.inv(g)
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        self.b = b.astype(np.float32)
        # The history restricted to the modelled items, and B widened to every item (zero columns outside the
        # modelled set) in column blocks: a batch's scores come out in place, without a scatter into the item space.
        self._x_cols = inter.matrix[:, keep].tocsr()
        wide = np.zeros((len(keep), inter.n_items), dtype=np.float32)
        wide[:, keep] = self.b
        self._blocks = column_blocks(wide)
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Recency-weighted history through B; zero for items outside the modelled set."""
        if not len(self.cols):
            return _known(rows, self.inter.n_items)[0]
        return _per_known(rows, self.inter.n_items, lambda r: blocked_product(self._x_cols[r], self._blocks))

    def item_similarity(self) -> sp.csr_matrix:
        """Non-negative EASE weights, top 50 per item, in the full item space."""
        if getattr(self, "_sim", None) is None:
            full = np.zeros((self.inter.n_items, self.inter.n_items), dtype=np.float32)
            full[np.ix_(self.cols, self.cols)] = np.maximum(self.b, 0)
            idx, vals = top_k(full, 50)
            rows = np.repeat(np.arange(full.shape[0]), idx.shape[1])
            self._sim = sp.csr_matrix((vals.ravel(), (rows, idx.ravel())), shape=full.shape)
            self._sim.eliminate_zeros()
        return self._sim


@dataclass(frozen=True)
class ALSConfig:
    """Implicit ALS (Hu, Koren, Volinsky 2008) in numpy."""

    factors: int = 48
    regularization: float = 0.05
    alpha: float = 15.0
    iterations: int = 15
    cg_steps: int = 3
    seed: int = 0


def _als_half_step(c: sp.csr_matrix, fixed: np.ndarray, current: np.ndarray, reg: float, cg_steps: int) -> np.ndarray:
    """A few conjugate-gradient steps for every row at once, from the current factors (confidence 1 + c)."""
    yty = (fixed.T @ fixed + reg * np.eye(fixed.shape[1])).astype(np.float32)
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    cols, conf = c.indices, c.data

    def times_a(x: np.ndarray) -> np.ndarray:
        # (YᵀY + λI) x + Yᵀ C_u Y x, for every row, using only the observed entries.
        w = conf * (x @ fixed.T)[rows, cols]
        return x @ yty + sp.csr_matrix((w, cols, c.indptr), shape=c.shape) @ fixed

    b = sp.csr_matrix((1.0 + conf, cols, c.indptr), shape=c.shape) @ fixed
    x = current.copy()
    r = b - times_a(x)
    p = r.copy()
    rs = np.einsum("nf,nf->n", r, r)
    for _ in range(cg_steps):
        ap = times_a(p)
        alpha = rs / np.maximum(np.einsum("nf,nf->n", p, ap), 1e-12)
        x += alpha[:, None] * p
        r -= alpha[:, None] * ap
        rs_new = np.einsum("nf,nf->n", r, r)
        p = r + (rs_new / np.maximum(rs, 1e-12))[:, None] * p
        rs = rs_new
    return x


class ALS(Candidate):
    """Implicit-feedback matrix factorisation by alternating least squares (numpy)."""

    name = "als"

    def __init__(self, config: ALSConfig | None = None) -> None:
        self.config = config or ALSConfig()

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> ALS:
        """Alternate least-squares updates (conjugate gradient, vectorised over rows) for users and items."""
        super().fit(inter, items)
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        c = inter.matrix.copy().astype(np.float32)
        c.data = (cfg.alpha * np.log1p(c.data)).astype(np.float32)
        ct = c.T.tocsr()
        self.user_f = rng.normal(0, 0.01, (inter.n_users, cfg.factors)).astype(np.float32)
        self.item_f = rng.normal(0, 0.01, (inter.n_items, cfg.factors)).astype(np.float32)
        for _ in range(cfg.iterations):
            self.user_f = _als_half_step(c, self.item_f, self.user_f, cfg.regularization, cfg.cg_steps)
            self.item_f = _als_half_step(ct, self.user_f, self.item_f, cfg.regularization, cfg.cg_steps)
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """User factors · item factors."""
        return _per_known(rows, self.inter.n_items, lambda r: self.user_f[r] @ self.item_f.T)

    def item_similarity(self) -> sp.csr_matrix:
        """Cosine of item factors, top 50."""
        if getattr(self, "_sim", None) is None:
            f = self.item_f / (np.linalg.norm(self.item_f, axis=1, keepdims=True) + 1e-9)
            sim = (f @ f.T).astype(np.float32)
            np.fill_diagonal(sim, 0)
            idx, vals = top_k(sim, 50)
            rows = np.repeat(np.arange(sim.shape[0]), idx.shape[1])
            self._sim = sp.csr_matrix((vals.ravel(), (rows, idx.ravel())), shape=sim.shape)
        return self._sim
