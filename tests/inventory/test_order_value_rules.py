"""Supplier minimum order value and budget caps: known answers in the engine, and in suggested orders."""

from decimal import Decimal

import pytest

from inventory.engine.orders import OrderLine, cut_to_budget, raise_to_minimum_value
from inventory.models import PurchaseOrder


def test_minimum_value_tops_up_the_least_covered_line_first():
    a = OrderLine(quantity=10, unit_cost=1.0, daily_demand=1.0)  # 10 days of cover after ordering
    b = OrderLine(quantity=0, unit_cost=2.0, pack_size=5, moq=10, daily_demand=1.0, position=20)  # 20 days
    assert raise_to_minimum_value([a, b], 15) == [15, 0]
    # A fills up to B's 20 days (value 20), wins the tie by order (21), then B opens at its MOQ: 21 + 2 x 10 = 41.
    assert raise_to_minimum_value([a, b], 40) == [21, 10]
    assert raise_to_minimum_value([a, b], 0) == [10, 0]


def test_budget_trims_the_most_covered_line_and_drops_lines_below_their_moq():
    a = OrderLine(quantity=30, unit_cost=1.0, daily_demand=1.0)  # 30 days of cover
    b = OrderLine(quantity=24, unit_cost=2.0, pack_size=12, moq=12, daily_demand=2.0)  # 12 days
    # A comes down to 12 days (value 12 + 48 = 60), then the dearer B at equal cover loses a pack: 12 + 24 = 36.
    assert cut_to_budget([a, b], 40) == [12, 12]
    assert cut_to_budget([a, b], 100) == [30, 24]
    assert cut_to_budget([OrderLine(quantity=10, unit_cost=1.0, moq=10)], 5) == [0]


@pytest.mark.django_db
def test_suggested_order_is_raised_to_the_supplier_minimum_value(assortment, suggest):
    """JAM alone (60 at 2.00 = 120) from a supplier whose minimum order is 150: raised to 75, explained."""
    other = assortment["other"]
    other.min_order_value = Decimal("150")
    other.save()

    suggest()

    po = PurchaseOrder.objects.get(supplier=other)
    jam = po.lines.get(product__sku="JAM")
    assert jam.quantity == jam.suggested_quantity == 75
    assert po.total_value == Decimal("150.00")
    assert jam.explanation["value_rule"] == "minimum_order_value"
    assert jam.explanation["quantity_before_value_rule"] == 60
    assert jam.explanation["days_of_cover_after"] == 12.5


@pytest.mark.django_db
def test_suggestions_fit_the_run_budget(assortment, suggest, settings):
    settings.PO_BUDGET_PER_RUN = 200
    suggest()

    total = sum(po.total_value for po in PurchaseOrder.objects.all())
    # Within the budget, and short of it by less than the largest single cut (MUG's MOQ of 24 at 2.50 = 60).
    assert Decimal("140") < total <= Decimal("200")
    cut = [ln for po in PurchaseOrder.objects.all() for ln in po.lines.all() if "value_rule" in ln.explanation]
    assert cut and all(ln.explanation["value_rule"] == "budget" for ln in cut)
    assert all(ln.quantity < ln.explanation["quantity_before_value_rule"] for ln in cut)
