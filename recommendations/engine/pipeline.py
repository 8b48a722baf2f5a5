"""End to end: clean events, fit the blend, apply serving rules, fill to k and explain every row."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommendations.engine.blend import Blend, BlendConfig, fit_blend
from recommendations.engine.interactions import InteractionConfig, clean_events
from recommendations.engine.rules import RuleConfig, apply_rules, in_stock_mask, is_non_merchandise

OUTPUT_COLUMNS = ["user_id", "rank", "item_id", "score", "reason"]


@dataclass(frozen=True)
class RecommendConfig:
    """Everything one recommendation run needs besides the data."""

    k: int = 10
    exclude_seen: bool = False
    seed: int = 0
    as_of: pd.Timestamp | None = None  # serving date; default: just after the last event
    interactions: InteractionConfig = field(default_factory=InteractionConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    rules: RuleConfig = field(default_factory=RuleConfig)


@dataclass
class RecommendResult:
    """Ranked lists with a reason per row, and what produced them."""

    recommendations: pd.DataFrame  # user_id, rank, item_id, score, reason
    ranker: str  # "hgb", "logistic" or "fixed weights"
    as_of: pd.Timestamp
    n_users: int
    n_items: int
    train_positives: int
    # What a customer without a list gets: the cold-start list's best 3k items as (item id, score, reason).
    cold_start: list[tuple[str, float, str]] = field(default_factory=list)


def _labels(items: pd.DataFrame | None) -> dict[str, str]:
    """Item id → short human label (description or name), for reasons."""
    if items is None:
        return {}
    for col in ("description", "name", "title"):
        if col in items:
            s = items.assign(item_id=items["item_id"].astype(str)).drop_duplicates("item_id")
            return dict(zip(s["item_id"], s[col].fillna("").astype(str).str.strip().str.title(), strict=True))
    return {}


def _reasons(frame: pd.DataFrame, blend: Blend, items: pd.DataFrame | None) -> list[str]:
    """One plain-language reason per recommended row, from the features that put it there."""
    labels = _labels(items)
    cs = blend.candidates
    inter = cs.inter
    knn = cs.models["item_knn"]
    sim = knn.item_similarity().tocsc()
    hist = inter.binary()
    cats = {}
    if items is not None and "category" in items:
        cats = dict(zip(items["item_id"].astype(str), items["category"].astype(str), strict=True))
    out = []
    for row in frame.itertuples(index=False):
        n = getattr(row, "pair_n", 0.0)
        if n >= 2:
            tau = float(np.expm1(row.pair_tau))
            out.append(f"bought again every ~{max(1, round(tau))} days")
            continue
        if n >= 1:
            days = float(np.expm1(row.pair_since - 1.0))
            out.append(f"bought before, {max(0, round(days))} days ago")
            continue
        u = inter.user_index.get(row.user_id)
        i = inter.item_index.get(row.item_id)
        if u is not None and i is not None and (row.item_knn > 0 or row.ease > 0):
            bought = hist[u].indices
            col = sim[:, i].toarray().ravel()[bought] if len(bought) else np.array([])
            if len(col) and col.max() > 0:
                anchor = inter.item_ids[bought[int(np.argmax(col))]]
                out.append(f"often bought with {labels.get(anchor) or anchor}")
                continue
        if u is not None and row.content > 0.2:
            out.append("similar to items you bought")
            continue
        if u is None and cs.cold is not None and i is not None and cs.cold.newcomer_favourite[i]:
            out.append(cs.cold.reason(i))
            continue
        cat = cats.get(row.item_id)
        out.append(f"popular in {cat}" if cat else "popular right now")
    return out


def recommend(
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    items: pd.DataFrame | None = None,
    config: RecommendConfig | None = None,
) -> RecommendResult:
    """k recommendations per user: `user_id,rank,item_id,score,reason`, exactly k unless the catalogue is smaller."""
    config = config or RecommendConfig()
    np.random.seed(config.seed)
    blend_cfg = BlendConfig(**{**config.blend.__dict__, "seed": config.seed})
    events = clean_events(interactions, config.interactions)
    items = items.assign(item_id=items["item_id"].astype(str)) if items is not None else None
    user_ids = list(dict.fromkeys(users["user_id"].astype(str)))
    if events.empty:
        as_of = pd.Timestamp(config.as_of) if config.as_of is not None else pd.Timestamp("1970-01-01")
        blend = None
    else:
        blend = fit_blend(events, items, blend_cfg, as_of=config.as_of, interaction_config=config.interactions)
        as_of = blend.candidates.inter.as_of
    k = config.k
    if blend is not None and user_ids:
        frame = blend.score_frame(user_ids)
        if config.exclude_seen:
            frame = frame[frame["pair_n"] == 0]
        frame = frame.sort_values(["user_id", "score", "item_id"], ascending=[True, False, True], kind="mergesort")
        frame = frame.groupby("user_id", sort=False).head(3 * k + 20)
        ranked = apply_rules(frame, k, items, config.rules)
        ranked = ranked.assign(reason=_reasons(ranked, blend, items))[["user_id", "item_id", "score", "reason"]]
    else:
        ranked = pd.DataFrame(columns=["user_id", "item_id", "score", "reason"])
    ranked = _fill(ranked, user_ids, k, events, items, blend, config)
    ranked["rank"] = ranked.groupby("user_id", sort=False).cumcount() + 1
    cs = blend.candidates if blend is not None else None
    n_items = cs.inter.n_items if cs is not None else (0 if items is None else len(items))
    return RecommendResult(
        recommendations=ranked[OUTPUT_COLUMNS].reset_index(drop=True),
        ranker=("fixed weights" if blend is None or blend.ranker is None else blend.config.ranker),
        as_of=as_of,
        n_users=len(user_ids),
        n_items=n_items,
        train_positives=0 if blend is None else blend.train_positives,
        cold_start=[] if cs is None or cs.cold is None else cs.cold.ranked(cs.inter.item_ids, 3 * k),
    )


def _fill(
    ranked: pd.DataFrame,
    user_ids: list[str],
    k: int,
    events: pd.DataFrame,
    items: pd.DataFrame | None,
    blend: Blend | None,
    config: RecommendConfig,
) -> pd.DataFrame:
    """Top up short lists with the most popular eligible items so every user gets k rows when k exist."""
    if blend is not None:
        inter = blend.candidates.inter
        pop = blend.candidates.models["popularity"].pop  # type: ignore[attr-defined]
        order = pd.Series(pop, index=inter.item_ids).sort_index().sort_values(ascending=False, kind="mergesort")
        catalogue = list(order.index)
    else:
        catalogue = sorted(items["item_id"].astype(str).unique()) if items is not None else []
    cat = pd.Series(catalogue, dtype=object)
    ok = ~is_non_merchandise(cat) if config.rules.drop_non_merchandise else pd.Series(True, index=cat.index)
    if items is not None and config.rules.drop_out_of_stock:
        ok &= cat.map(in_stock_mask(items)).fillna(True).astype(bool)
    eligible = cat[ok.to_numpy()].tolist()
    seen = events.groupby("user_id")["item_id"].agg(set).to_dict() if config.exclude_seen else {}
    have = {u: g for u, g in ranked.groupby("user_id", sort=False)}
    parts = []
    for u in user_ids:
        got = have.get(u)
        rows = [] if got is None else [got]
        n = 0 if got is None else len(got)
        if n < k:
            taken = set() if got is None else set(got["item_id"])
            skip = taken | seen.get(u, set())
            extra = [i for i in eligible if i not in skip][: k - n]
            last = float(got["score"].iloc[-1]) if got is not None and n else 1.0
            scores = [last * 0.99 ** (j + 1) if last > 0 else last - 1e-6 * (j + 1) for j in range(len(extra))]
            rows.append(pd.DataFrame({"user_id": u, "item_id": extra, "score": scores, "reason": "popular right now"}))
        parts.extend(rows)
    if not parts:
        return pd.DataFrame(columns=["user_id", "item_id", "score", "reason"])
    return pd.concat(parts, ignore_index=True)
