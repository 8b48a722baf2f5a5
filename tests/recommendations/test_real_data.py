"""Real-data check: on a slice of Online Retail the learned blend beats popularity."""

from __future__ import annotations

import pandas as pd

from recommendations.engine import candidates as cand
from recommendations.engine.blend import BlendConfig, fit_blend
from recommendations.engine.evaluate import evaluate, truth_sets
from recommendations.engine.interactions import build_interactions, clean_events


def test_blend_beats_popularity_on_online_retail_slice(shared_data):
    raw = pd.read_csv(
        shared_data / "uci_online_retail" / "online_retail_2010-12_2011-12.csv.gz",
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str},
        parse_dates=["InvoiceDate"],
    )
    raw = raw[raw["CustomerID"].notna() & (raw["InvoiceDate"] >= "2011-06-01")]
    raw = raw[raw["CustomerID"].str[:5].astype(int) % 4 == 0]  # a quarter of the customers
    events = raw.rename(
        columns={
            "CustomerID": "user_id",
            "StockCode": "item_id",
            "InvoiceDate": "timestamp",
            "Quantity": "quantity",
            "InvoiceNo": "invoice_id",
        }
    )
    cut = pd.Timestamp("2011-11-09")
    train = clean_events(events[events["timestamp"] < cut])
    future = clean_events(events[(events["timestamp"] >= cut) & (events["timestamp"] < cut + pd.Timedelta(days=30))])
    truth = truth_sets(future)
    assert len(truth) > 300

    blend = fit_blend(train, None, BlendConfig(use_als=False, ease=cand.EASEConfig(max_items=1500)), as_of=cut)
    assert blend.ranker is not None  # learned on the 30 days before the cut, never on the scored period
    n_items = blend.candidates.inter.n_items
    blended = evaluate(blend.recommend(list(truth), 10), truth, 10, n_items)
    popular = cand.Popularity().fit(build_interactions(train, as_of=cut, clean=False))
    baseline = evaluate(popular.recommend(list(truth), 10), truth, 10, n_items)

    assert blended.ndcg > 1.5 * baseline.ndcg
    assert blended.recall > baseline.recall

    # Scores do not depend on how customers are chunked: chunks with an unknown customer take the dense paths
    # (every candidate's full score rows), the others the sparse and one-row shortcuts
    ids = [*list(truth)[:150], "no-such-customer", *list(truth)[150:300]]
    frame = blend.candidates.features(ids, keep=blend.config.rank_pool, scorer=blend._rank)
    small = blend.candidates.features(ids, chunk=37, keep=blend.config.rank_pool, scorer=blend._rank)
    pd.testing.assert_frame_equal(frame, small)
    assert (frame.groupby("user_id").size() == blend.config.rank_pool).all()
