"""Reads of the recommendations app: the engine's input frames, the active run, and serving with the rules."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db.models import Exists, OuterRef, Q, QuerySet

from retailai.commerce.choices import LineKind
from retailai.commerce.models import Customer, OrderLine, Product
from retailai.commerce.selectors import channel_for_partner
from retailai.core.roles import is_internal

from .models import BehaviourEvent, CustomerRecommendation, RecommendationRun, SimilarItem, SimilarKind

INTERACTION_COLUMNS = ["user_id", "item_id", "timestamp", "quantity", "event"]


def _naive_utc(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True).dt.tz_localize(None)


def interactions_frame() -> pd.DataFrame:
    """Purchases (returns and cancellations as negative quantities) and channel events of known shoppers,
    merchandise only: `user_id,item_id,timestamp,quantity,event` with the customer external id and SKU."""
    sign = {LineKind.SALE: 1.0, LineKind.CANCELLATION: -1.0, LineKind.RETURN: -1.0}
    lines = (
        OrderLine.objects.filter(customer__isnull=False, product__is_merchandise=True, kind__in=list(sign))
        .values_list("customer__external_id", "product__sku", "placed_at", "quantity", "kind")
        .iterator(chunk_size=20_000)
    )
    purchases = pd.DataFrame.from_records(lines, columns=["user_id", "item_id", "timestamp", "quantity", "kind"])
    purchases["quantity"] = purchases["quantity"].astype(float) * purchases.pop("kind").map(sign).astype(float)
    purchases["event"] = "purchase"
    events = pd.DataFrame.from_records(
        BehaviourEvent.objects.filter(product__is_merchandise=True)
        .values_list("customer_external_id", "product__sku", "at", "kind")
        .iterator(chunk_size=20_000),
        columns=["user_id", "item_id", "timestamp", "event"],
    )
    events["quantity"] = 1.0
    frame = pd.concat([purchases[INTERACTION_COLUMNS], events[INTERACTION_COLUMNS]], ignore_index=True)
    frame["timestamp"] = _naive_utc(frame["timestamp"]) if len(frame) else pd.to_datetime([])
    return frame


def baskets_frame() -> pd.DataFrame:
    """Sale lines of merchandise as `basket_id,item_id` (guest orders count too: a basket needs no customer)."""
    rows = OrderLine.objects.filter(kind=LineKind.SALE, product__is_merchandise=True).values_list(
        "order_id", "product__sku"
    )
    return pd.DataFrame.from_records(rows.iterator(chunk_size=20_000), columns=["basket_id", "item_id"])


def items_frame() -> pd.DataFrame:
    """Active merchandise as the engine's items: `item_id,description,category`."""
    rows = Product.objects.filter(active=True, is_merchandise=True).values_list("sku", "name", "category__code")
    frame = pd.DataFrame.from_records(rows, columns=["item_id", "description", "category"])
    frame["category"] = frame["category"].fillna("")
    return frame


def active_run() -> RecommendationRun | None:
    """The run whose lists are served, if any."""
    return RecommendationRun.objects.select_related("job").filter(is_active=True).first()


def latest_runs(limit: int = 10) -> QuerySet[RecommendationRun]:
    """The latest runs, newest first, with who started them."""
    return RecommendationRun.objects.select_related("job", "job__created_by").order_by("-pk")[:limit]


def sellable_products(prefix: str = "") -> Q:
    """Active merchandise in stock somewhere; a product without any stock row counts as available.

    Read through the reverse relation `stock_levels`, so this app needs no import of inventory."""
    pk = OuterRef(f"{prefix}_id") if prefix else OuterRef("pk")
    in_stock = Exists(Product.objects.filter(pk=pk, stock_levels__on_hand__gt=0))
    tracked = Exists(Product.objects.filter(pk=pk, stock_levels__isnull=False))
    p = f"{prefix}__" if prefix else ""
    return Q(**{f"{p}active": True, f"{p}is_merchandise": True}) & (in_stock | ~tracked)


@dataclass(frozen=True)
class ServedItem:
    """One recommended product as shown to a shopper or a marketer."""

    sku: str
    name: str
    score: float
    reason: str


@dataclass(frozen=True)
class Served:
    """A served list and where it came from."""

    run_id: int | None
    items: list[ServedItem]
    cold_start: bool = False


def _popular(run: RecommendationRun, k: int, exclude: set[str]) -> list[ServedItem]:
    """The run's popular products that pass the rules, best first."""
    scores = {int(pid): float(score) for pid, score in run.popular}
    if not scores or k <= 0:
        return []
    products = Product.objects.filter(pk__in=list(scores)).filter(sellable_products()).exclude(sku__in=exclude)
    found = {p.pk: p for p in products.only("pk", "sku", "name")}
    ordered = [found[pid] for pid in scores if pid in found]
    return [ServedItem(p.sku, p.name, scores[p.pk], "popular right now") for p in ordered[:k]]


def customer_may_be_served(user, customer: Customer | None) -> bool:
    """Internal roles see every customer's list; a channel partner only those of shoppers of its channel."""
    if customer is None:
        return False
    if is_internal(user):
        return True
    channel = channel_for_partner(user)
    if channel is None:
        return False
    # One query: the customer ordered through the channel, or the channel posted events for them.
    return Customer.objects.filter(
        Q(orders__channel=channel) | Q(behaviour_events__channel=channel), pk=customer.pk
    ).exists()


def customer_recommendations(*, external_id: str, k: int, user=None) -> Served:
    """Top-k of the active run for a customer after the serving rules; popular items when there is no list."""
    run = active_run()
    if run is None:
        return Served(run_id=None, items=[], cold_start=True)
    customer = Customer.objects.filter(external_id=external_id).only("pk", "external_id").first()
    if user is not None and not customer_may_be_served(user, customer):
        customer = None
    items: list[ServedItem] = []
    if customer is not None:
        rows = (
            CustomerRecommendation.objects.filter(run=run, customer=customer)
            .filter(sellable_products("product"))
            .select_related("product")
            .only("rank", "score", "reason", "product__sku", "product__name")
            .order_by("rank")[:k]
        )
        items = [ServedItem(r.product.sku, r.product.name, r.score, r.reason) for r in rows]
    cold = not items
    if len(items) < k:
        items += _popular(run, k - len(items), {i.sku for i in items})
    return Served(run_id=run.pk, items=items, cold_start=cold)


def similar_products(*, product: Product, kind: str = SimilarKind.SIMILAR, k: int = 10) -> Served:
    """A product's stored neighbours of one kind in the active run, after the serving rules."""
    run = active_run()
    if run is None:
        return Served(run_id=None, items=[])
    rows = (
        SimilarItem.objects.filter(run=run, product=product, kind=kind)
        .filter(sellable_products("similar"))
        .select_related("similar")
        .only("rank", "score", "reason", "similar__sku", "similar__name")
        .order_by("rank")[:k]
    )
    return Served(run_id=run.pk, items=[ServedItem(r.similar.sku, r.similar.name, r.score, r.reason) for r in rows])


def bought_together(*, products: list[Product], k: int = 10) -> Served:
    """Items to add to a basket: the stored bought-together neighbours of its products, summed; popular fill."""
    run = active_run()
    if run is None:
        return Served(run_id=None, items=[])
    basket = {p.pk for p in products}
    rows = (
        SimilarItem.objects.filter(run=run, product_id__in=basket, kind=SimilarKind.TOGETHER)
        .exclude(similar_id__in=basket)
        .filter(sellable_products("similar"))
        .select_related("product", "similar")
        .only("score", "reason", "product__name", "similar__sku", "similar__name")
        .order_by("rank")
    )
    best: dict[str, list] = {}
    for r in rows:
        entry = best.setdefault(r.similar.sku, [r.similar.name, 0.0, r.reason])
        entry[1] += r.score / len(basket)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][1], kv[0]))[:k]
    items = [ServedItem(sku, name, score, reason) for sku, (name, score, reason) in ranked]
    if len(items) < k:
        skus = {i.sku for i in items} | {p.sku for p in products}
        items += _popular(run, k - len(items), skus)
    return Served(run_id=run.pk, items=items)


def purchase_history(*, customer: Customer, limit: int = 50) -> list[OrderLine]:
    """A customer's latest order lines with their products, newest first."""
    return list(
        OrderLine.objects.filter(customer=customer).select_related("product").order_by("-placed_at", "-pk")[:limit]
    )
