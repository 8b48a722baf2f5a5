"""Every stock change goes through a service that writes the ledger in the same transaction."""

import pytest

from inventory.choices import MovementKind
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_adjust, stock_count_set, stock_move, stock_transfer
from retailai.core.errors import ValidationFailed
from retailai.core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return factories.ProductFactory(sku="85123A")


@pytest.fixture
def dc():
    return factories.LocationFactory(code="dc")


def test_receipt_then_sale_updates_level_and_ledger(product, dc):
    stock_move(product=product, location=dc, kind=MovementKind.RECEIPT, quantity=24, reference="PO-1")
    change = stock_move(product=product, location=dc, kind=MovementKind.SALE, quantity=-5, reference="ORD-9")

    assert change.on_hand == 19
    assert StockLevel.objects.get(product=product, location=dc).on_hand == 19
    ledger = list(StockMovement.objects.order_by("pk").values_list("kind", "quantity", "on_hand_after", "reference"))
    assert ledger == [("receipt", 24, 24, "PO-1"), ("sale", -5, 19, "ORD-9")]


def test_overselling_is_refused_and_writes_nothing(product, dc):
    stock_move(product=product, location=dc, kind=MovementKind.RECEIPT, quantity=3)

    with pytest.raises(ValidationFailed, match="Not enough stock of 85123A at dc: 3 on hand"):
        stock_move(product=product, location=dc, kind=MovementKind.SALE, quantity=-4)

    assert StockLevel.objects.get(product=product, location=dc).on_hand == 3
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "quantity", "message"),
    [
        (MovementKind.RECEIPT, -2, "receipt adds stock"),
        (MovementKind.SALE, 2, "sale removes stock"),
        (MovementKind.ADJUSTMENT, 0, "non-zero quantity"),
        ("teleport", 1, "Unknown movement kind"),
    ],
)
def test_sign_rules(product, dc, kind, quantity, message):
    with pytest.raises(ValidationFailed, match=message):
        stock_move(product=product, location=dc, kind=kind, quantity=quantity)
    assert StockMovement.objects.count() == 0
    assert StockLevel.objects.count() == 0


def test_count_records_the_difference_and_is_idempotent(product, dc):
    stock_move(product=product, location=dc, kind=MovementKind.RECEIPT, quantity=10)

    stock_count_set(product=product, location=dc, counted=7, reference="count-2011-12")
    stock_count_set(product=product, location=dc, counted=7, reference="count-2011-12")

    level = StockLevel.objects.get(product=product, location=dc)
    assert level.on_hand == 7
    counts = list(StockMovement.objects.filter(kind=MovementKind.COUNT).values_list("quantity", "on_hand_after"))
    assert counts == [(-3, 7)]


def test_transfer_writes_two_entries(product, dc):
    store = factories.LocationFactory(code="store-1")
    stock_move(product=product, location=dc, kind=MovementKind.RECEIPT, quantity=10)

    stock_transfer(product=product, source=dc, destination=store, quantity=4, reference="TR-1")

    assert StockLevel.objects.get(location=dc).on_hand == 6
    assert StockLevel.objects.get(location=store).on_hand == 4
    assert AuditEvent.objects.filter(verb="stock.transfer").count() == 1


def test_adjustment_needs_a_reason_and_is_audited(product, dc):
    user = factories.UserFactory(username="clerk")
    stock_move(product=product, location=dc, kind=MovementKind.RECEIPT, quantity=10)

    with pytest.raises(ValidationFailed, match="needs a reason"):
        stock_adjust(product=product, location=dc, quantity=-2, actor=user, reason=" ")
    stock_adjust(product=product, location=dc, quantity=-2, actor=user, reason="damaged in transit")

    event = AuditEvent.objects.get(verb="stock.adjust")
    assert event.actor == user
    assert event.after == {"quantity": -2, "on_hand": 8, "reason": "damaged in transit"}


def test_inventory_position(product, dc):
    level = factories.StockLevelFactory(product=product, location=dc, on_hand=10, on_order=6, reserved=3)
    assert level.available == 7
    assert level.inventory_position == 13
