"""Known answers for the replenishment engine: rounding, the lost-sales replay, levels from quantiles."""

import numpy as np
import pytest

from inventory.engine.policy import abc_xyz_classes, extend_periods, order_up_to_levels, textbook_levels
from inventory.engine.simulate import round_order, simulate_lost_sales


@pytest.mark.parametrize(
    ("need", "pack", "moq", "expected"),
    [
        (0, 6, 1, 0),
        (-3, 6, 1, 0),
        (1, 6, 1, 6),
        (6, 6, 1, 6),
        (7, 6, 1, 12),
        (5, 1, 20, 20),
        (5, 6, 20, 24),
        (25, 12, 24, 36),
    ],
)
def test_round_order(need, pack, moq, expected):
    assert round_order(need, pack_size=pack, moq=moq) == expected


def test_lost_sales_replay_hand_worked():
    # L=1, R=1, s=4, S=10, start with 10 on hand.
    # t0: IP 10 > 4, no order; serve 3 -> 7.     t1: IP 7 > 4; serve 4 -> 3.
    # t2: IP 3 <= 4: order 7 (due t3); serve 5 of 5? only 3 on hand -> serve 3, lose 2 -> 0.
    # t3: 7 arrive -> 7; IP 7 > 4; serve 2 -> 5.  t4: IP 5 > 4; serve 1 -> 4.
    result = simulate_lost_sales(np.array([3, 4, 5, 2, 1]), 4, 10, lead_time=1)
    assert result.on_hand.tolist() == [7, 3, 0, 5, 4]
    assert result.orders.tolist() == [0, 0, 7, 0, 0]
    assert result.served == 13 and result.demanded == 15
    assert result.fill_rate == pytest.approx(13 / 15)
    assert result.average_on_hand == pytest.approx(19 / 5)
    assert result.stockout_periods == 1
    assert result.orders_placed == 1


def test_replay_rounds_to_packs_and_reviews_every_r_periods():
    result = simulate_lost_sales(
        np.full(6, 5.0), 20, 25, lead_time=2, review_period=3, pack_size=12, initial_on_hand=25
    )
    # Reviews at t0 (IP 25 > 20) and t3 (IP 10 <= 20: need 15 -> 24 in packs of 12, due t5).
    assert result.orders.tolist() == [0, 0, 0, 24, 0, 0]
    assert result.on_hand.tolist() == [20, 15, 10, 5, 0, 19]
    assert result.fill_rate == 1.0


def test_constant_demand_needs_no_safety_stock():
    q = np.tile([10.0, 10.0, 10.0], (8, 1))
    levels = order_up_to_levels(q, np.array([0.1, 0.5, 0.9]), lead_time=2, review_period=1, fill_rate=0.99)
    assert levels.order_up_to.tolist() == [30.0] * 8
    assert np.allclose(levels.safety_stock, 0.0)


def test_seasonal_rise_raises_the_order_up_to_level_ahead_of_the_season():
    median = np.array([10.0] * 6 + [40.0] * 4)
    q = np.column_stack([median * 0.7, median, median * 1.3])
    levels = order_up_to_levels(q, np.array([0.1, 0.5, 0.9]), lead_time=2, review_period=1, fill_rate=0.95)
    # The cover window of period 3 (periods 3..5) is all low season; period 4's reaches the first peak period.
    assert levels.order_up_to[4] > levels.order_up_to[3]
    assert levels.order_up_to[5] > levels.order_up_to[4]
    assert levels.order_up_to[3] == pytest.approx(levels.order_up_to[0], abs=1)


def test_higher_fill_rate_needs_more_stock_and_is_met_in_replay():
    rng = np.random.default_rng(3)
    demand = rng.poisson(8, size=400).astype(float)
    q = np.tile(np.quantile(rng.poisson(8, size=20000), [0.1, 0.5, 0.9]).astype(float), (400, 1))
    low = order_up_to_levels(q, np.array([0.1, 0.5, 0.9]), lead_time=3, fill_rate=0.90)
    high = order_up_to_levels(q, np.array([0.1, 0.5, 0.9]), lead_time=3, fill_rate=0.99)
    assert high.order_up_to[0] > low.order_up_to[0]
    sim = simulate_lost_sales(demand, high.reorder_point, high.order_up_to, lead_time=3)
    assert sim.fill_rate >= 0.97


def test_intermittent_demand_gets_no_absurd_safety_stock():
    q = np.tile([0.0, 0.0, 1.0], (20, 1))  # mostly zero, occasionally one unit
    levels = order_up_to_levels(q, np.array([0.1, 0.5, 0.9]), lead_time=2, fill_rate=0.95)
    assert 0 < levels.order_up_to[0] <= 4


def test_textbook_levels():
    s, big_s = textbook_levels(np.array([8.0, 12.0, 10.0, 10.0]), lead_time=3, review_period=1, safety_factor=1.0)
    sigma = np.std([8, 12, 10, 10], ddof=1)
    assert s == np.ceil(40 + sigma * 2)
    assert big_s == np.ceil(40 + sigma * 2 + 10)


def test_abc_xyz():
    classes = abc_xyz_classes(np.array([800, 100, 60, 40]), np.array([0.2, 0.7, 1.5, 0.3]))
    assert classes == ["AX", "BY", "CZ", "CX"]


def test_a_cover_past_the_horizon_repeats_the_last_week_of_a_daily_forecast():
    # Two weeks forecast exactly (every quantile equal): 10 a day, 40 on Saturdays (the 6th day of each week).
    week = np.array([10.0, 10, 10, 10, 10, 40, 10])
    q = np.repeat(np.tile(week, 2)[:, None], 3, axis=1)
    levels = np.array([0.1, 0.5, 0.9])
    # Lead time 20 + review 1: a cover of three weeks from the first period, one of them past the horizon.
    weekly = order_up_to_levels(q, levels, lead_time=20, review_period=1, season=7)
    last_day = order_up_to_levels(q, levels, lead_time=20, review_period=1)
    assert weekly.expected_cover_demand[0] == pytest.approx(3 * week.sum())  # 300: three Saturdays
    assert last_day.expected_cover_demand[0] == pytest.approx(2 * week.sum() + 7 * 10)  # the last day (10) seven times
    np.testing.assert_array_equal(extend_periods(q, 17, 7)[14:, 0], week[:3])
    np.testing.assert_array_equal(extend_periods(q, 10, 7), q)  # nothing to add
