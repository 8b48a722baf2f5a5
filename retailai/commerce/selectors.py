"""Reads of the commerce app."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Max, Min, QuerySet

from retailai.core.choices import Role
from retailai.core.roles import has_role

from .choices import LineKind
from .models import Channel, Customer, Order, OrderLine, Product


def channel_for_partner(user) -> Channel | None:
    """The channel a Partner user acts for, if any."""
    link = getattr(user, "channel_partner", None) if user.is_authenticated else None
    return link.channel if link is not None else None


def orders_visible_to(user) -> QuerySet[Order]:
    """Orders a user may read: internal roles see all, a channel partner only its channel's."""
    qs = Order.objects.select_related("channel", "customer")
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    channel = channel_for_partner(user)
    if channel is not None:
        return qs.filter(channel=channel)
    return qs.none()


def products_visible_to(user) -> QuerySet[Product]:
    """Products a user may read: internal roles see all, a channel partner the active merchandise,
    a supplier partner only what it supplies."""
    qs = Product.objects.select_related("category")
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    if channel_for_partner(user) is not None:
        return qs.filter(active=True, is_merchandise=True)
    if has_role(user, Role.PARTNER):
        # Followed through the reverse relations so that commerce needs no import of inventory; a subquery
        # rather than a join keeps one row per product when a supplier has several partner users.
        supplied = Product.objects.filter(supplier_terms__supplier__partners__user=user).values("pk")
        return qs.filter(pk__in=supplied)
    return qs.none()


def product_scope_sql(user, alias: str) -> tuple[str, list]:
    """products_visible_to(user) as an SQL condition on the product table alias, for reads folded into one query."""
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return "1 = 1", []
    if channel_for_partner(user) is not None:
        return f"({alias}.active AND {alias}.is_merchandise)", []
    # Any other scope: the queryset itself as a subquery, so the rule stays written once.
    try:
        sql, params = products_visible_to(user).values("pk").query.sql_with_params()
    except EmptyResultSet:
        return "1 = 0", []
    return f"{alias}.id IN ({sql})", list(params)


def commerce_totals() -> dict:
    """Headline counts of the order history (home page, job smoke runs)."""
    lines = OrderLine.objects.aggregate(n=Count("id"), first=Min("placed_at"), last=Max("placed_at"))
    by_kind = dict(OrderLine.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return {
        "products": Product.objects.filter(is_merchandise=True).count(),
        "non_merchandise_codes": Product.objects.filter(is_merchandise=False).count(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": lines["n"],
        "sale_lines": by_kind.get(LineKind.SALE, 0),
        "cancellation_lines": by_kind.get(LineKind.CANCELLATION, 0),
        "first_order_at": lines["first"].isoformat() if lines["first"] else None,
        "last_order_at": lines["last"].isoformat() if lines["last"] else None,
    }
