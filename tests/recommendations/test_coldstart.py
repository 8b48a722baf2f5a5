"""Known answers for the cold-start list: what recent new customers start with, chosen without looking ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommendations.engine import candidates as cand
from recommendations.engine.blend import fit_blend
from recommendations.engine.coldstart import ColdStart, ColdStartChoice, ColdStartConfig, static_list_ndcg, validate
from recommendations.engine.interactions import build_interactions, clean_events
from recommendations.engine.pipeline import RecommendConfig, recommend
from tests.recommendations.conftest import DAY0, lines

END = 180  # day the lists are built for


def _starter_shop() -> pd.DataFrame:
    """40 regulars buy BEST1..3 every 10 days; from day 60 a newcomer arrives every day with STARTER + one BEST."""
    rows = [(f"e{n:02d}", item, d + n % 10) for n in range(40) for item in ("BEST1", "BEST2", "BEST3")
            for d in range(0, END - 10, 10)]  # fmt: skip
    for j in range(END - 60):
        rows += [(f"n{j:03d}", "STARTER", 60 + j), (f"n{j:03d}", f"BEST{1 + j % 3}", 60 + j)]
    return lines(rows)


def test_a_brand_new_customer_gets_what_recent_newcomers_start_with():
    # Given regulars who never buy STARTER and newcomers who all start with it
    events = _starter_shop()
    as_of = DAY0 + pd.Timedelta(days=END)
    inter = build_interactions(events, as_of=as_of)
    pop = cand.Popularity().fit(inter)
    # Then plain popularity ranks the regulars' favourites first and STARTER below them
    order = inter.item_ids[np.argsort(-pop.pop, kind="stable")].tolist()
    assert order.index("STARTER") == 3
    # When a customer with no history asks
    result = recommend(events, pd.DataFrame({"user_id": ["brand-new"]}), None, RecommendConfig(k=3, as_of=as_of))
    recs = result.recommendations
    # Then STARTER comes first, explained by the newcomers who bought it
    assert recs["item_id"].tolist()[0] == "STARTER"
    assert recs["reason"].tolist()[0] == "popular with new customers this month"
    # And the list was measured on the 30 new customers of the last month, not taken from the default
    cold = ColdStart().fit(clean_events(events), inter.item_ids, as_of)
    assert cold.measured
    assert int(cold.validation["users"].iloc[0]) == 30
    assert cold.choice.newcomer_weight > 0


def test_the_choice_never_reads_data_at_or_after_the_training_end():
    # Given the shop up to END, and a flood after END of newcomers who start with LATE instead of STARTER
    events = clean_events(_starter_shop())
    as_of = DAY0 + pd.Timedelta(days=END)
    later = clean_events(lines([(f"z{j:03d}", "LATE", END + j / 10) for j in range(300)]))
    item_ids = np.array(sorted(set(events["item_id"]) | {"LATE"}), dtype=object)
    cfg = ColdStartConfig(min_users=5)
    # When the list is fitted with and without the later events
    before = ColdStart(cfg).fit(events, item_ids, as_of)
    both = ColdStart(cfg).fit(pd.concat([events, later], ignore_index=True), item_ids, as_of)
    # Then the choice, its validation table and the served scores are identical, and LATE scores nothing
    assert both.choice == before.choice
    pd.testing.assert_frame_equal(both.validation, before.validation)
    np.testing.assert_array_equal(both.scores, before.scores)
    assert both.scores[list(item_ids).index("LATE")] == 0.0
    # And the blend's cold-start list at `as_of` does not move either
    b1 = fit_blend(events, as_of=as_of).candidates.cold
    b2 = fit_blend(pd.concat([events, later], ignore_index=True), as_of=as_of).candidates.cold
    assert b1.choice == b2.choice
    np.testing.assert_array_equal(b1.scores, b2.scores)


def test_validation_scores_each_list_on_the_window_before_the_end():
    # Given 10 newcomers in the last 30 days who all buy KIT, while MUG was the regulars' item before
    rows = [(f"r{n}", "MUG", d) for n in range(10) for d in (0, 20, 40)]
    rows += [(f"old{n}", "KIT", 35 + n) for n in range(5)]  # newcomers before the window start with KIT too
    rows += [(f"new{n}", "KIT", 61 + n) for n in range(10)]
    events = clean_events(lines(rows))
    end = DAY0 + pd.Timedelta(days=90)
    cfg = ColdStartConfig(half_lives=(15.0,), newcomer_weights=(0.0, 1.0), first_days=(30.0,))
    val = validate(events, end, cfg).set_index("choice")["ndcg"]
    # Then the newcomer list (KIT first) scores 1 and overall popularity (MUG first, KIT second) 1/log2(3)
    assert val[ColdStartChoice(15.0, 1.0, 30.0)] == 1.0
    assert abs(val[ColdStartChoice(15.0, 0.0, 30.0)] - 1 / np.log2(3)) < 1e-12


def test_static_list_ndcg_matches_hand_computation():
    import scipy.sparse as sp

    truth = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=float))
    got = static_list_ndcg(np.array([2, 1, 0]), truth, k=3)
    disc = 1 / np.log2(np.arange(2, 5))
    assert np.allclose(got, [(disc[0] + disc[2]) / (disc[0] + disc[1]), 0.0, 0.0])
