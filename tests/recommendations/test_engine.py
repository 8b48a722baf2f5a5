"""Known answers for the recommendation engine: co-purchase, re-buy timing, rules, cold start."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommendations.engine import candidates as cand
from recommendations.engine.basket import BasketConfig, BoughtTogether
from recommendations.engine.blend import BlendConfig
from recommendations.engine.content import Content
from recommendations.engine.evaluate import evaluate
from recommendations.engine.interactions import build_interactions, clean_events
from recommendations.engine.pipeline import RecommendConfig, recommend
from recommendations.engine.rules import RuleConfig, apply_rules, description_stem, is_non_merchandise
from tests.recommendations.conftest import DAY0, lines


def test_bought_together_finds_the_obvious_pair():
    # Given baskets where bread always comes with butter, and milk is in everything
    baskets = []
    for b in range(40):
        baskets += [(b, "milk")]
        if b % 2 == 0:
            baskets += [(b, "bread"), (b, "butter")]
        if b % 5 == 0:
            baskets += [(b, "jam")]
    lines_ = pd.DataFrame(baskets, columns=["basket_id", "item_id"])
    bt = BoughtTogether(BasketConfig(min_support=0.01)).fit(lines_)
    # When asking for bread
    rules = bt.for_item("bread", k=3)
    # Then butter comes first with confidence 1 and lift 2 (half the baskets hold butter)
    assert rules.loc[0, "consequent"] == "butter"
    assert rules.loc[0, "confidence"] == 1.0
    assert rules.loc[0, "lift"] == 2.0
    assert rules.loc[0, "support"] == 0.5
    assert bt.for_basket(["bread", "milk"], k=1)["item_id"].tolist() == ["butter"]


def test_item_knn_recommends_the_co_purchased_item(shop):
    events, _ = shop
    inter = build_interactions(events)
    knn = cand.ItemKNN().fit(inter)
    assert knn.similar_items(["MUG"], 1)["similar_item_id"].tolist() == ["SAUCER"]
    # c12 bought only the mug: the saucer is the first new item for them
    recs = knn.recommend(["c12"], 1, exclude_seen=True)
    assert recs["item_id"].tolist() == ["SAUCER"]


def _weekly_shopper() -> pd.DataFrame:
    """W bought every 7 days (days 0..63), TEA every 14 days (last day 51), plus a crowd buying other things."""
    rows = [("me", "W", d) for d in range(0, 64, 7)] + [("me", "TEA", d) for d in (9, 23, 37, 51)]
    for n in range(15):
        rows += [(f"o{n}", "P1", n * 4), (f"o{n}", "P2", n * 4 + 1), (f"o{n}", "W", n * 4)]
    return lines(rows)


def test_weekly_rebuy_is_top_when_due_and_lower_right_after_buying():
    events = clean_events(_weekly_shopper())
    rep = cand.RepeatConfig(horizon_days=7)
    due = cand.RepeatPurchase(rep).fit(build_interactions(events, as_of=DAY0 + pd.Timedelta(days=69)))
    just = cand.RepeatPurchase(rep).fit(build_interactions(events, as_of=DAY0 + pd.Timedelta(days=63.5)))
    when_due = due.recommend(["me"], 5)
    right_after = just.recommend(["me"], 5)
    assert when_due["item_id"].iloc[0] == "W"
    # Right after buying W, the fortnightly TEA (due now) outranks it and W's score drops
    assert right_after["item_id"].tolist()[:2] == ["TEA", "W"]
    assert right_after.set_index("item_id").loc["W", "score"] < when_due.set_index("item_id").loc["W", "score"]


def test_pipeline_explains_the_weekly_rebuy():
    config = RecommendConfig(k=3, as_of=DAY0 + pd.Timedelta(days=69), blend=BlendConfig(horizon_days=7, use_als=False))
    result = recommend(_weekly_shopper(), pd.DataFrame({"user_id": ["me"]}), None, config)
    top = result.recommendations.iloc[0]
    assert (top["item_id"], top["rank"]) == ("W", 1)
    assert top["reason"] == "bought again every ~7 days"


def test_out_of_stock_and_non_merchandise_never_appear(shop):
    events, items = shop
    items = items.assign(in_stock=[0, 1, 1, 1, 0, 1, 1, 1])  # SCARF1 (most popular) and CANDLE1 sold out
    events = pd.concat([events, lines([("c10", "POST", 9), ("c11", "POST", 6)])])
    users = pd.DataFrame({"user_id": [f"c{n:02d}" for n in range(13)] + ["stranger"]})
    recs = recommend(events, users, items, RecommendConfig(k=5)).recommendations
    assert not recs["item_id"].isin(["SCARF1", "CANDLE1", "POST"]).any()
    assert (recs.groupby("user_id").size() == 5).all()


def test_new_customer_gets_popular_items_and_new_product_reaches_matching_taste(shop):
    events, items = shop
    users = pd.DataFrame({"user_id": ["newcomer", "c10"]})
    recs = recommend(events, users, items, RecommendConfig(k=4)).recommendations
    newcomer = recs[recs["user_id"] == "newcomer"]
    # The newcomer gets the two best sellers first, each explained as popular
    assert newcomer["item_id"].tolist()[:2] == ["SCARF2", "SCARF1"] or newcomer["item_id"].tolist()[:2] == [
        "SCARF1",
        "SCARF2",
    ]
    assert newcomer["reason"].str.startswith("popular").all()
    # CANDLE3 has never been sold, yet the candle-holder buyer sees it, from its description
    assert "CANDLE3" in recs[recs["user_id"] == "c10"]["item_id"].tolist()
    inter = build_interactions(events, extra_items=items["item_id"])
    similar = Content().fit(inter, items).similar_items(["CANDLE3"], 2)
    assert set(similar["similar_item_id"]) == {"CANDLE1", "CANDLE2"}


def test_exactly_k_rows_ranks_and_descending_scores(shop):
    events, items = shop
    users = pd.DataFrame({"user_id": ["c00", "c10", "nobody", "c00"]})
    recs = recommend(events, users, items, RecommendConfig(k=3)).recommendations
    assert recs["user_id"].tolist() == ["c00"] * 3 + ["c10"] * 3 + ["nobody"] * 3
    assert recs["rank"].tolist() == [1, 2, 3] * 3
    for _, g in recs.groupby("user_id"):
        assert (np.diff(g["score"].to_numpy()) <= 0).all()
    # k above the catalogue: every sellable item once (POST is not merchandise)
    big = recommend(events, users, items, RecommendConfig(k=50)).recommendations
    assert big.groupby("user_id").size().tolist() == [7, 7, 7]
    # exclude_seen never repeats a purchase
    unseen = recommend(events, users, items, RecommendConfig(k=3, exclude_seen=True)).recommendations
    assert not unseen[unseen["user_id"] == "c10"]["item_id"].isin(["CANDLE1", "CANDLE2"]).any()


def test_returns_and_cancellations_are_removed():
    raw = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b"],
            "item_id": ["X", "X", "Y", "Z", "Z"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-01", "2024-01-02"]),
            "quantity": [2, -2, 1, 3, 1],
            "invoice_id": ["1", "C2", "1", "3", "C4"],
        }
    )
    clean = clean_events(raw)
    assert sorted(zip(clean["user_id"], clean["item_id"], strict=True)) == [("a", "Y"), ("b", "Z")]


def test_diversity_caps_near_duplicates():
    ranked = pd.DataFrame({"user_id": "u", "item_id": ["I1", "I2", "I3", "I4"], "score": [0.9, 0.8, 0.7, 0.1]})
    items = pd.DataFrame(
        {
            "item_id": ["I1", "I2", "I3", "I4"],
            "description": ["JUMBO BAG RED RETROSPOT", "JUMBO BAG PINK POLKADOT", "JUMBO BAG APPLES", "TEA CUP"],
        }
    )
    assert description_stem("JUMBO BAG RED RETROSPOT") == "JUMBO BAG"
    out = apply_rules(ranked, 3, items, RuleConfig(max_per_group=1, group_column="category"))
    assert out["item_id"].tolist() == ["I1", "I2", "I3"]  # no category column: nothing to group by
    items["category"] = ["bags", "bags", "bags", "kitchen"]
    out = apply_rules(ranked, 3, items, RuleConfig(max_per_group=2))
    assert out["item_id"].tolist() == ["I1", "I2", "I4"]
    assert (np.diff(out["score"].to_numpy()) <= 0).all()


def test_non_merchandise_codes():
    ids = pd.Series(["POST", "85123A", "gift_0001_20", "BANK CHARGES", "AMAZONFEE", "22423"])
    assert is_non_merchandise(ids).tolist() == [True, False, True, True, True, False]


def test_metrics_on_a_known_list():
    recs = pd.DataFrame({"user_id": "u", "item_id": ["A", "B", "C"], "score": [3, 2, 1]})
    m = evaluate(recs, {"u": {"B", "Z"}}, k=2, n_catalogue=10)
    assert m.recall == 0.5
    assert m.hit_rate == 1.0
    assert abs(m.ndcg - (1 / np.log2(3)) / (1 + 1 / np.log2(3))) < 1e-12
    assert m.coverage == 0.2


def test_every_candidate_honours_the_interface(shop):
    events, items = shop
    inter = build_interactions(events, extra_items=items["item_id"])
    models = [
        cand.Popularity(),
        cand.RecencyFrequency(),
        cand.RepeatPurchase(),
        cand.ItemKNN(),
        cand.EASE(cand.EASEConfig(l2=1.0)),
        cand.ALS(cand.ALSConfig(factors=4, iterations=5)),
        Content(),
    ]
    for model in models:
        model.fit(inter, items)
        recs = model.recommend(["c00", "c10"], 3)
        assert list(recs.columns) == ["user_id", "item_id", "score"], model.name
        assert (recs.groupby("user_id").size() <= 3).all(), model.name
        for _, g in recs.groupby("user_id"):
            assert (np.diff(g["score"].to_numpy()) <= 0).all(), model.name
        similar = model.similar_items(["MUG"], 2)
        assert list(similar.columns) == ["item_id", "similar_item_id", "score"], model.name
        assert "MUG" not in similar["similar_item_id"].tolist(), model.name
    # ALS and EASE pick up the mug-saucer pair too
    for model in models[4:6]:
        assert model.recommend(["c12"], 1, exclude_seen=True)["item_id"].tolist() == ["SAUCER"], model.name


def test_top_masks_keep_each_rows_best_positive_values_with_ties():
    from scipy import sparse

    from recommendations.engine.blend import _sparse_top_mask, _top_mask

    # Given rows with ties at the cut, fewer positives than n, negatives and zeros
    s = np.array([[5, 3, 3, 1, 0, -2], [0, 0, 2, 0, 0, 0], [-1, -1, 0, 0, 0, 0], [4, 4, 4, 4, 1, 2]], dtype=np.float32)
    want = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype=bool)
    # Then the two best (ties at the cut kept), every positive of a short row, never a zero or a negative
    assert (_top_mask(s, 2) == want).all()
    # And the mostly-long-rows path and the row-gather path agree on a random block
    rng = np.random.default_rng(3)
    block = rng.integers(-2, 6, (60, 40)).astype(np.float32)
    for n in (1, 5, 28, 39, 40):  # 28: few long rows, the row-gather path
        gathered = np.vstack([_top_mask(block[i : i + 1], n) for i in range(len(block))])
        assert (_top_mask(block, n) == gathered).all()
        # And the sparse version sets the same cells as the dense one
        pool = np.zeros(block.shape, dtype=bool)
        _sparse_top_mask(sparse.csr_matrix(block), n, pool)
        assert (pool == _top_mask(block, n)).all()


def test_blocked_product_gives_the_sparse_products_values_exactly():
    from scipy import sparse

    # Given a sparse weighted history and a sparse item × item matrix with more columns than one block
    rng = np.random.default_rng(5)
    x = sparse.random(50, 150, density=0.05, random_state=1, dtype=np.float32, format="csr")
    m = sparse.random(150, 150, density=0.2, random_state=2, dtype=np.float32, format="csr")
    dense = m.toarray()
    dense[rng.random(dense.shape) < 0.3] *= -1
    # Then block by block it is bit for bit the sparse × sparse and the sparse × dense product
    assert np.array_equal(cand.blocked_product(x, cand.column_blocks(m, 64)), (x @ m).toarray())
    assert np.array_equal(cand.blocked_product(x, cand.column_blocks(dense, 64)), x @ dense)
    assert cand.blocked_product(x[:0], cand.column_blocks(m, 64)).shape == (0, 150)


def test_item_knn_and_ease_score_the_same_through_dense_blocks(shop):
    events, items = shop
    inter = build_interactions(events, extra_items=items["item_id"])
    rows = np.r_[np.arange(inter.n_users), -1]
    # Given kNN scored through the sparse neighbours and through dense blocks
    sparse_knn = cand.ItemKNN(cand.ItemKNNConfig(dense_max_items=0)).fit(inter)
    dense_knn = cand.ItemKNN().fit(inter)
    assert dense_knn._blocks is not None and sparse_knn._blocks is None
    assert np.array_equal(dense_knn.score(rows), sparse_knn.score(rows))
    # And EASE on part of the items: its scores are the history through B, zero outside the modelled items
    ease = cand.EASE(cand.EASEConfig(l2=1.0, max_items=inter.n_items - 3)).fit(inter)
    want = np.zeros((len(rows), inter.n_items), dtype=np.float32)
    want[np.ix_(np.arange(len(rows) - 1), ease.cols)] = inter.matrix[:, ease.cols] @ ease.b
    assert np.array_equal(ease.score(rows), want)


def test_top_cells_are_the_top_mask_cells():
    from recommendations.engine.blend import _top_cells, _top_mask

    rng = np.random.default_rng(7)
    # Given score blocks wide enough for the block bound: ties, negatives, zeros, short rows, values crowded in
    # neighbouring columns, and widths that leave a tail after the blocks
    for w in (128, 200, 3684):
        rounded = rng.integers(-3, 8, (40, w)).astype(np.float32)
        spread = rng.normal(0, 1, (40, w)).astype(np.float32)
        crowded = np.where(np.arange(w) < 40, rng.random((40, w)) + 1, rng.random((40, w)) * 0.1).astype(np.float32)
        short = np.zeros((40, w), dtype=np.float32)
        short[np.arange(40), rng.integers(0, w, 40)] = rng.random(40) + 0.5
        short[::2, ::7] = 2.0
        for s in (rounded, spread, crowded, short, -np.abs(spread)):
            for n in (1, 25, 63, 64, 80):
                # Then the cells are exactly the mask's, and the row maxima come along
                r, c, row_max = _top_cells(s, n)
                mask = np.zeros(s.shape, dtype=bool)
                mask[r, c] = True
                assert (mask == _top_mask(s, n)).all(), (w, n)
                assert np.array_equal(row_max, s.max(axis=1))


def test_binned_ranker_probabilities_are_predict_proba():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from recommendations.engine.blend import _binnable, _binned_proba

    # Given a boosted ranker on rounded features (many values on the bin edges) and continuous ones
    rng = np.random.default_rng(11)
    x = np.c_[rng.integers(0, 6, (3000, 2)), rng.normal(size=(3000, 3))].astype(np.float32).astype(np.float64)
    y = (x[:, 0] + x[:, 2] + rng.normal(size=3000) > 2.5).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    assert _binnable(model)
    # When scoring rows that sit exactly on every split value, plus unseen rows and values outside the range
    edges = model._bin_mapper.bin_thresholds_
    on_edges = np.zeros((max(len(e) for e in edges), x.shape[1]))
    for j, e in enumerate(edges):
        on_edges[:, j] = np.resize(e, len(on_edges))
    test = np.r_[on_edges, rng.normal(size=(500, 5)) * 3, x[:100]]
    # Then the binned walk gives predict_proba's probabilities bit for bit, whatever the block size
    for block in (7, 16384):
        assert np.array_equal(_binned_proba(model, test, 1, block), model.predict_proba(test)[:, 1])


def test_content_scores_the_same_through_dense_profiles(shop):
    from recommendations.engine.content import ContentConfig

    events, items = shop
    inter = build_interactions(events, extra_items=items["item_id"])
    rows = np.r_[np.arange(inter.n_users), -1]
    # Given content scored through the sparse product and through dense profile columns
    sparse_content = Content(ContentConfig(dense_max_terms=0)).fit(inter, items)
    dense_content = Content().fit(inter, items)
    # Then the scores are the same bit for bit, and the cosines they are
    assert np.array_equal(dense_content.score(rows), sparse_content.score(rows))
    want = (dense_content.profiles @ dense_content.vectors.T).toarray()
    assert np.allclose(dense_content.score(rows)[:-1], want, atol=1e-6)
    assert not dense_content.score(rows)[-1].any()


def test_row_order_is_the_lexsort_by_row_then_largest_value():
    from recommendations.engine.blend import _row_order

    rng = np.random.default_rng(13)
    # Given rows out of order, ties, zeros of both signs, negatives, tiny and huge values
    r = rng.integers(0, 50, 5000)
    v = rng.choice(np.array([0.0, -0.0, 1.0, -1.0, 2.5, 1e-30, -1e-30, 3e38, -3e38], dtype=np.float32), 5000)
    v[::3] = rng.normal(size=len(v[::3])).astype(np.float32)
    # Then the order is lexsort's, ties (negative zero equal to zero) in their given order
    assert np.array_equal(_row_order(r, v), np.lexsort((-v, r)))
