"""Projected stock of a whole purchase order's lines, day by day, with and without the order (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OrderProjection:
    """Per line and day: demand the stock cannot serve, without the order and with it (lost sales)."""

    unserved_without: np.ndarray  # (lines, days)
    unserved_with: np.ndarray  # (lines, days)


def window_totals(
    unserved: np.ndarray, first_day: np.ndarray, end_day: np.ndarray, value: np.ndarray
) -> tuple[int, float]:
    """Lines that leave at least one unit unserved from their `first_day` up to (not including) their `end_day`,
    and the value of all they leave unserved there (`value` per unit of each line)."""
    t = np.arange(unserved.shape[1])
    inside = (t >= np.asarray(first_day)[:, None]) & (t < np.asarray(end_day)[:, None])
    units = np.where(inside, unserved, 0.0).sum(axis=1)
    return int((units >= 1.0).sum()), float((units * np.asarray(value, dtype=float)).sum())


def _arrivals(units: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """Units per line and day from one delivery per line."""
    out = np.zeros((len(units), days))
    inside = day < days
    out[np.flatnonzero(inside), np.clip(day[inside], 0, None)] = units[inside]
    return out


def unserved_demand(stock: np.ndarray, daily: np.ndarray, arrivals: np.ndarray) -> np.ndarray:
    """Lost sales per line and day: each day's arrivals come in, then its demand is served from what is there.

    `stock` is what each line starts with (lines), `daily` its demand per day (lines, or lines × days),
    `arrivals` the units arriving on each day (lines × days).
    """
    arrivals = np.asarray(arrivals, dtype=float)
    lines, days = arrivals.shape
    demand = np.broadcast_to(np.asarray(daily, dtype=float).reshape(lines, -1), (lines, days))
    on_hand = np.clip(np.asarray(stock, dtype=float), 0.0, None).copy()
    unserved = np.zeros((lines, days))
    for t in range(days):
        on_hand += arrivals[:, t]
        served = np.minimum(on_hand, demand[:, t])
        unserved[:, t] = demand[:, t] - served
        on_hand -= served
    return unserved


def order_projection(
    stock: np.ndarray,
    daily: np.ndarray,
    on_order: np.ndarray,
    on_order_day: np.ndarray,
    quantity: np.ndarray,
    delivery_day: np.ndarray,
    days: int,
) -> OrderProjection:
    """Lost sales of every line over `days`, with what is already on order arriving on each line's
    `on_order_day` and, with the order, its `quantity` on its `delivery_day` (days past the horizon never
    arrive; days before the first count as the first)."""
    existing = _arrivals(np.asarray(on_order, dtype=float), np.asarray(on_order_day, dtype=int), days)
    ordered = existing + _arrivals(np.asarray(quantity, dtype=float), np.asarray(delivery_day, dtype=int), days)
    return OrderProjection(
        unserved_without=unserved_demand(stock, daily, existing),
        unserved_with=unserved_demand(stock, daily, ordered),
    )
