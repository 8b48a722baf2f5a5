"""Whole-order constraints on suggested lines: a supplier's minimum order value and a budget cap (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class OrderLine:
    """One suggested line as the order-value rules see it."""

    quantity: int
    unit_cost: float
    pack_size: int = 1
    moq: int = 1
    daily_demand: float = 0.0
    position: float = 0.0  # inventory position before this order


def _cover_after(line: OrderLine, quantity: int) -> float:
    """Days of cover after ordering `quantity`; lines without demand count as covered for ever."""
    return (line.position + quantity) / line.daily_demand if line.daily_demand > 0 else math.inf


def _step_up(line: OrderLine, quantity: int) -> int:
    """The next orderable quantity above `quantity`: one more pack, or the MOQ in whole packs from zero."""
    pack = max(1, line.pack_size)
    if quantity == 0:
        return max(pack, math.ceil(max(line.moq, 1) / pack - 1e-9) * pack)
    return quantity + pack


def _step_down(line: OrderLine, quantity: int) -> int:
    """The next orderable quantity below `quantity`: one pack less, or nothing once below the MOQ."""
    lower = quantity - max(1, line.pack_size)
    return lower if lower >= max(line.moq, 1) else 0


def raise_to_minimum_value(lines: list[OrderLine], minimum_value: float) -> list[int]:
    """Quantities topped up pack by pack, most urgent line first (least cover after), until the order's value
    reaches the supplier's minimum; lines without demand are topped up only when no line has any."""
    qty = [ln.quantity for ln in lines]
    if minimum_value <= 0 or not lines or all(ln.unit_cost <= 0 for ln in lines):
        return qty
    total = sum(q * ln.unit_cost for q, ln in zip(qty, lines, strict=True))
    for _ in range(100_000):
        if total >= minimum_value - 1e-9:
            break
        i = min(
            (i for i, ln in enumerate(lines) if ln.unit_cost > 0),
            key=lambda i: (_cover_after(lines[i], qty[i]), -lines[i].daily_demand, i),
        )
        new = _step_up(lines[i], qty[i])
        total += (new - qty[i]) * lines[i].unit_cost
        qty[i] = new
    return qty


def cut_to_budget(lines: list[OrderLine], budget: float) -> list[int]:
    """Quantities trimmed pack by pack, least urgent line first (most cover after), until the value fits the
    budget; a line that would fall below its MOQ is dropped."""
    qty = [ln.quantity for ln in lines]
    total = sum(q * ln.unit_cost for q, ln in zip(qty, lines, strict=True))
    for _ in range(100_000):
        if total <= budget + 1e-9:
            break
        open_lines = [i for i, q in enumerate(qty) if q > 0]
        if not open_lines:
            break
        i = max(open_lines, key=lambda i: (_cover_after(lines[i], qty[i]), lines[i].unit_cost, -i))
        new = _step_down(lines[i], qty[i])
        total -= (qty[i] - new) * lines[i].unit_cost
        qty[i] = new
    return qty
