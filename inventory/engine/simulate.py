"""The period-by-period lost-sales replay that every replenishment benchmark uses (pure numpy)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulationResult:
    """What a policy achieved on one demand path."""

    served: float
    demanded: float
    fill_rate: float
    average_on_hand: float
    stockout_periods: int
    orders_placed: int
    on_hand: np.ndarray
    orders: np.ndarray


def round_order(quantity: float, *, pack_size: int = 1, moq: int = 1) -> int:
    """A positive need rounded up to whole packs and raised to the MOQ (then to whole packs again)."""
    if quantity <= 0:
        return 0
    pack = max(1, int(pack_size))
    units = math.ceil(quantity / pack - 1e-9) * pack
    if units < moq:
        units = math.ceil(moq / pack - 1e-9) * pack
    return int(units)


def simulate_lost_sales(
    demand: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    *,
    lead_time: int,
    review_period: int = 1,
    pack_size: int = 1,
    moq: int = 1,
    initial_on_hand: float | None = None,
) -> SimulationResult:
    """Replay demand as the contract says: arrivals, then review and order, then serve; unmet demand is lost."""
    demand = np.asarray(demand, dtype=float)
    n = len(demand)
    reorder_point = np.broadcast_to(np.asarray(reorder_point, dtype=float), (n,))
    order_up_to = np.broadcast_to(np.asarray(order_up_to, dtype=float), (n,))
    if lead_time < 0 or review_period < 1:
        raise ValueError("lead_time must be >= 0 and review_period >= 1")
    on_hand = float(order_up_to[0] if initial_on_hand is None else initial_on_hand)
    pipeline = np.zeros(n + lead_time + 1)
    served_total = 0.0
    on_hand_path = np.zeros(n)
    orders = np.zeros(n)
    stockouts = 0
    for t in range(n):
        on_hand += pipeline[t]
        pipeline[t] = 0.0
        if t % review_period == 0:
            position = on_hand + pipeline[t + 1 :].sum()
            if position <= reorder_point[t]:
                qty = round_order(order_up_to[t] - position, pack_size=pack_size, moq=moq)
                if qty > 0:
                    orders[t] = qty
                    if lead_time == 0:
                        on_hand += qty
                    else:
                        pipeline[t + lead_time] += qty
        served = min(on_hand, demand[t])
        if served < demand[t]:
            stockouts += 1
        on_hand -= served
        served_total += served
        on_hand_path[t] = on_hand
    demanded = float(demand.sum())
    return SimulationResult(
        served=served_total,
        demanded=demanded,
        fill_rate=served_total / demanded if demanded > 0 else 1.0,
        average_on_hand=float(on_hand_path.mean()) if n else 0.0,
        stockout_periods=stockouts,
        orders_placed=int((orders > 0).sum()),
        on_hand=on_hand_path,
        orders=orders,
    )
