"""Writes of the inventory app. Every change of StockLevel.on_hand goes through stock_move and leaves a movement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from retailai.commerce.models import Product
from retailai.core.errors import ValidationFailed
from retailai.core.services import audit_event_record

from .choices import MovementKind
from .models import Location, StockLevel, StockMovement

_INBOUND = {MovementKind.RECEIPT, MovementKind.RETURN, MovementKind.TRANSFER_IN}
_OUTBOUND = {MovementKind.SALE, MovementKind.TRANSFER_OUT}


@dataclass(frozen=True)
class StockChange:
    """The outcome of one stock move."""

    movement: StockMovement
    on_hand: int


def stock_move(
    *,
    product: Product,
    location: Location,
    kind: str,
    quantity: int,
    actor=None,
    reference: str = "",
    note: str = "",
) -> StockChange:
    """Apply a signed change to on-hand stock and write its ledger entry in the same transaction."""
    if kind not in MovementKind.values or kind == MovementKind.COUNT:
        raise ValidationFailed(f"Unknown movement kind {kind!r}.", field="kind")
    if quantity == 0:
        raise ValidationFailed("A stock movement needs a non-zero quantity.", field="quantity")
    if kind in _INBOUND and quantity < 0:
        raise ValidationFailed(f"A {kind} adds stock; quantity must be positive.", field="quantity")
    if kind in _OUTBOUND and quantity > 0:
        raise ValidationFailed(f"A {kind} removes stock; quantity must be negative.", field="quantity")
    with transaction.atomic():
        level, _ = StockLevel.objects.get_or_create(product=product, location=location)
        try:
            with transaction.atomic():
                StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
        except IntegrityError:
            raise ValidationFailed(
                f"Not enough stock of {product.sku} at {location.code}: {level.on_hand} on hand, {quantity} requested.",
                field="quantity",
                code="insufficient_stock",
            ) from None
        on_hand = StockLevel.objects.values_list("on_hand", flat=True).get(pk=level.pk)
        movement = StockMovement.objects.create(
            product=product,
            location=location,
            kind=kind,
            quantity=quantity,
            on_hand_after=on_hand,
            reference=reference[:128],
            note=note[:255],
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
    return StockChange(movement=movement, on_hand=on_hand)


def stock_count_set(
    *,
    product: Product,
    location: Location,
    counted: int,
    actor=None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> StockChange:
    """Set on-hand to a physical count; the ledger records the difference as a count movement.

    `at` dates a count taken earlier (a stock history loaded after the fact). It must come after the
    location's last movement of the product, so the ledger stays in time order and its last entry is the
    stock on hand.
    """
    if counted < 0:
        raise ValidationFailed("A stock count cannot be negative.", field="on_hand")
    if at is not None and at > timezone.now():
        raise ValidationFailed("A stock count cannot be dated in the future.", field="counted_on")
    with transaction.atomic():
        level, _ = StockLevel.objects.select_for_update().get_or_create(product=product, location=location)
        if at is not None:
            movements = product.stock_movements.filter(location=location)
            then = movements.filter(at__lte=at).first()
            if then is not None and then.on_hand_after == counted:
                # The ledger already says so at that time (the same history loaded again): nothing to add.
                return StockChange(movement=then, on_hand=level.on_hand)
            latest = movements.values_list("at", flat=True).first()
            if latest is not None and latest >= at:
                raise ValidationFailed(
                    f"A count of {product.sku} at {location.code} dated {timezone.localtime(at):%Y-%m-%d %H:%M} is "
                    f"not after the last stock movement there ({timezone.localtime(latest):%Y-%m-%d %H:%M}).",
                    field="counted_on",
                )
        delta = counted - level.on_hand
        if delta == 0:
            last = level.product.stock_movements.filter(location=location).first()
            if last is not None and last.on_hand_after == counted:
                return StockChange(movement=last, on_hand=counted)
        StockLevel.objects.filter(pk=level.pk).update(on_hand=counted)
        movement = StockMovement.objects.create(
            product=product,
            location=location,
            kind=MovementKind.COUNT,
            quantity=delta,
            on_hand_after=counted,
            reference=reference[:128],
            note=note[:255],
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if at is not None:  # `at` is set on write; a dated count gets its own time afterwards
            StockMovement.objects.filter(pk=movement.pk).update(at=at)
            movement.at = at
    return StockChange(movement=movement, on_hand=counted)


def stock_transfer(
    *, product: Product, source: Location, destination: Location, quantity: int, actor=None, reference: str = ""
) -> tuple[StockChange, StockChange]:
    """Move stock between two locations: two ledger entries, one transaction."""
    if source.pk == destination.pk:
        raise ValidationFailed("A transfer needs two different locations.", field="destination")
    if quantity <= 0:
        raise ValidationFailed("A transfer moves a positive quantity.", field="quantity")
    with transaction.atomic():
        out = stock_move(
            product=product,
            location=source,
            kind=MovementKind.TRANSFER_OUT,
            quantity=-quantity,
            actor=actor,
            reference=reference,
        )
        into = stock_move(
            product=product,
            location=destination,
            kind=MovementKind.TRANSFER_IN,
            quantity=quantity,
            actor=actor,
            reference=reference,
        )
        audit_event_record(
            actor=actor,
            verb="stock.transfer",
            obj=product,
            after={"from": source.code, "to": destination.code, "quantity": quantity},
        )
    return out, into


def stock_adjust(*, product: Product, location: Location, quantity: int, actor, reason: str) -> StockChange:
    """A manual correction (damage, loss, found stock); the reason is required and audited."""
    if not reason.strip():
        raise ValidationFailed("An adjustment needs a reason.", field="reason")
    with transaction.atomic():
        change = stock_move(
            product=product,
            location=location,
            kind=MovementKind.ADJUSTMENT,
            quantity=quantity,
            actor=actor,
            note=reason,
        )
        audit_event_record(
            actor=actor,
            verb="stock.adjust",
            obj=change.movement,
            after={"quantity": quantity, "on_hand": change.on_hand, "reason": reason},
        )
    return change
