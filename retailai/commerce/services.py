"""Writes of the commerce app: orders received from channels and their cancellation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from retailai.core.errors import Conflict, ValidationFailed
from retailai.core.services import audit_event_record

from .choices import LineKind, OrderStatus
from .models import Channel, Customer, Order, OrderLine, Product

ORDER_LINE_KINDS = (LineKind.SALE, LineKind.CANCELLATION, LineKind.RETURN)


@dataclass(frozen=True)
class OrderLineInput:
    """One line of an order as a channel sends it."""

    sku: str
    quantity: int
    unit_price: Decimal
    discount_amount: Decimal = Decimal(0)
    kind: str = LineKind.SALE


@dataclass(frozen=True)
class OrderCreateResult:
    """The order, and whether this call created it (False: a retry of an order already received)."""

    order: Order
    created: bool


def order_create(
    *,
    channel: Channel,
    external_id: str,
    placed_at: datetime,
    customer_external_id: str | None,
    lines: Sequence[OrderLineInput],
    actor,
    country: str = "",
    currency: str | None = None,
) -> OrderCreateResult:
    """Record an order received from a channel, idempotently on (channel, external_id).

    A retry with the same content returns the order already recorded and writes nothing; the same
    external id with different content is a conflict. An unknown customer external id creates the customer.
    """
    lines = list(lines)
    currency = currency or settings.RETAILAI_CURRENCY
    customer_external_id = customer_external_id or None
    _order_lines_check(lines)

    existing = _order_by_external_id(channel=channel, external_id=external_id)
    if existing is not None:
        return _order_replay(
            existing,
            placed_at=placed_at,
            customer_external_id=customer_external_id,
            country=country,
            currency=currency,
            lines=lines,
        )

    products = _products_by_sku(line.sku for line in lines)
    try:
        with transaction.atomic():
            order = _order_write(
                channel=channel,
                external_id=external_id,
                placed_at=placed_at,
                customer_external_id=customer_external_id,
                country=country,
                currency=currency,
                lines=lines,
                products=products,
                actor=actor,
            )
    except IntegrityError:
        # Two identical posts raced past the read above; the loser re-reads what the winner committed.
        existing = _order_by_external_id(channel=channel, external_id=external_id)
        if existing is None:
            raise
        return _order_replay(
            existing,
            placed_at=placed_at,
            customer_external_id=customer_external_id,
            country=country,
            currency=currency,
            lines=lines,
        )
    return OrderCreateResult(order=order, created=True)


def order_cancel(*, order: Order, actor) -> Order:
    """Cancel a placed order; an order no longer placed (cancelled or fulfilled meanwhile) is a conflict."""
    with transaction.atomic():
        claimed = Order.objects.filter(pk=order.pk, status=OrderStatus.PLACED).update(status=OrderStatus.CANCELLED)
        if claimed != 1:
            current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
            raise Conflict(f"Order {order.external_id} is {current}, not placed; it cannot be cancelled.")
        order.status = OrderStatus.CANCELLED
        audit_event_record(
            actor=actor,
            verb="order.cancel",
            obj=order,
            before={"status": OrderStatus.PLACED},
            after={"status": OrderStatus.CANCELLED},
        )
    return order


def _order_lines_check(lines: list[OrderLineInput]) -> None:
    if not lines:
        raise ValidationFailed("An order needs at least one line.", field="lines")
    for line in lines:
        if line.quantity <= 0:
            raise ValidationFailed(f"Quantity of {line.sku} must be greater than 0.", field="lines")
        if line.unit_price < 0 or line.discount_amount < 0:
            raise ValidationFailed(f"Price and discount of {line.sku} must not be negative.", field="lines")
        if line.kind not in ORDER_LINE_KINDS:
            raise ValidationFailed(f"Unknown line kind '{line.kind}'.", field="lines")


def _products_by_sku(skus) -> dict[str, Product]:
    wanted = set(skus)
    products = {p.sku: p for p in Product.objects.filter(sku__in=wanted)}
    unknown = sorted(wanted - products.keys())
    if unknown:
        raise ValidationFailed(f"Unknown SKU '{unknown[0]}'.", field="lines")
    return products


def _order_by_external_id(*, channel: Channel, external_id: str) -> Order | None:
    return (
        Order.objects.select_related("channel", "customer")
        .prefetch_related("lines__product")
        .filter(channel=channel, external_id=external_id)
        .first()
    )


def _order_write(
    *,
    channel: Channel,
    external_id: str,
    placed_at: datetime,
    customer_external_id: str | None,
    country: str,
    currency: str,
    lines: list[OrderLineInput],
    products: dict[str, Product],
    actor,
) -> Order:
    customer = None
    if customer_external_id is not None:
        customer, _ = Customer.objects.get_or_create(
            external_id=customer_external_id, defaults={"country": country, "first_seen": placed_at}
        )
    order = Order.objects.create(
        channel=channel,
        external_id=external_id,
        customer=customer,
        placed_at=placed_at,
        country=country,
        currency=currency,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=number,
            product=products[line.sku],
            kind=line.kind,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_amount=line.discount_amount,
            placed_at=placed_at,
            customer=customer,
        )
        for number, line in enumerate(lines, start=1)
    )
    audit_event_record(
        actor=actor,
        verb="order.create",
        obj=order,
        after={
            "channel": channel.code,
            "external_id": external_id,
            "customer": customer_external_id,
            "placed_at": placed_at.isoformat(),
            "lines": [_line_json(line) for line in lines],
        },
    )
    return order


def _line_key(line: OrderLineInput) -> tuple:
    # Decimals compare by value, so 2.95 as posted equals 2.9500 as read back from the database.
    return (line.sku, line.kind, line.quantity, Decimal(line.unit_price), Decimal(line.discount_amount))


def _line_json(line: OrderLineInput) -> dict:
    return {
        "sku": line.sku,
        "kind": str(line.kind),
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "discount_amount": str(line.discount_amount),
    }


def _order_replay(
    order: Order,
    *,
    placed_at: datetime,
    customer_external_id: str | None,
    country: str,
    currency: str,
    lines: list[OrderLineInput],
) -> OrderCreateResult:
    recorded_lines = [
        OrderLineInput(
            sku=line.product.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_amount=line.discount_amount,
            kind=line.kind,
        )
        for line in sorted(order.lines.all(), key=lambda line: line.line_number)
    ]
    same = (
        order.placed_at == placed_at
        and (order.customer.external_id if order.customer else None) == customer_external_id
        and order.country == country
        and order.currency == currency
        and [_line_key(line) for line in recorded_lines] == [_line_key(line) for line in lines]
    )
    if not same:
        raise Conflict(
            f"Order {order.external_id} was already received from channel {order.channel.code} with different content.",
            field="external_id",
        )
    return OrderCreateResult(order=order, created=False)
