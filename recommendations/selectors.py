"""Reads of the recommendations app: the engine's input frames, the active run, and serving with the rules."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from retailai.commerce.choices import LineKind
from retailai.commerce.models import Customer, Order, OrderLine, Product
from retailai.commerce.selectors import channel_for_partner, product_scope_sql
from retailai.core.roles import is_internal

from .models import BehaviourEvent, CustomerRecommendation, RecommendationRun, SimilarItem, SimilarKind

INTERACTION_COLUMNS = ["user_id", "item_id", "timestamp", "quantity", "event"]
# The served run changes once a night; every API request reads it. Activation deletes the key (the shared cache
# when REDIS_URL is set); the timeout bounds how long a process-local cache may serve the previous run.
ACTIVE_RUN_CACHE_KEY = "recommendations:active-run:v1"
ACTIVE_RUN_CACHE_SECONDS = 60


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


@dataclass(frozen=True)
class ServingRun:
    """What serving needs of the active run: its id and its popular products (for customers with no list)."""

    pk: int
    popular: list


def serving_run() -> ServingRun | None:
    """The active run's id and popular list, from the cache when it is there."""
    cached = cache.get(ACTIVE_RUN_CACHE_KEY)
    if cached is None:
        row = RecommendationRun.objects.filter(is_active=True).values_list("pk", "popular").first()
        cached = (row[0], row[1]) if row else (0, [])
        cache.set(ACTIVE_RUN_CACHE_KEY, cached, ACTIVE_RUN_CACHE_SECONDS)
    pk, popular = cached
    return ServingRun(pk, popular) if pk else None


def serving_run_forget() -> None:
    """Drop the cached active run (called when another run becomes active)."""
    cache.delete(ACTIVE_RUN_CACHE_KEY)


def latest_runs(limit: int = 10) -> QuerySet[RecommendationRun]:
    """The latest runs, newest first, with who started them."""
    return RecommendationRun.objects.select_related("job", "job__created_by").order_by("-pk")[:limit]


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


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _sellable_sql(alias: str) -> str:
    """Active merchandise in stock somewhere (a product without any stock row counts as available), as SQL.

    Read through the reverse relation `stock_levels`, so this app needs no import of inventory."""
    stock = _table(Product._meta.get_field("stock_levels").related_model)
    return (
        f"{alias}.active AND {alias}.is_merchandise AND ("
        f"EXISTS (SELECT 1 FROM {stock} st WHERE st.product_id = {alias}.id AND st.on_hand > 0) "
        f"OR NOT EXISTS (SELECT 1 FROM {stock} st0 WHERE st0.product_id = {alias}.id))"
    )


def _fetch(sql: str, params: list) -> list[tuple]:
    # Serving runs on every API call: these reads are fixed SQL (the ORM spent more time building the queries,
    # with their stock and scope subqueries, than the database spent answering them).
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _popular(run: ServingRun, k: int, exclude: set[str]) -> list[ServedItem]:
    """The run's popular products that pass the rules, best first."""
    scores = {int(entry[0]): float(entry[1]) for entry in run.popular}
    # Runs stored before reasons were kept with the list have [product id, score] entries.
    reasons = {int(entry[0]): str(entry[2]) if len(entry) > 2 else "popular right now" for entry in run.popular}
    if not scores or k <= 0:
        return []
    ids = list(scores)[: k + len(exclude) + 50]  # enough for any k after the excluded and out-of-stock ones
    marks = ", ".join(["%s"] * len(ids))
    rows = _fetch(
        f"SELECT p.id, p.sku, p.name FROM {_table(Product)} p WHERE p.id IN ({marks}) AND {_sellable_sql('p')}", ids
    )
    found = {pk: (sku, name) for pk, sku, name in rows if sku not in exclude}
    if len(found) < k and len(ids) < len(scores):
        ids = list(scores)
        marks = ", ".join(["%s"] * len(ids))
        rows = _fetch(
            f"SELECT p.id, p.sku, p.name FROM {_table(Product)} p WHERE p.id IN ({marks}) AND {_sellable_sql('p')}",
            ids,
        )
        found = {pk: (sku, name) for pk, sku, name in rows if sku not in exclude}
    ordered = [(pid, *found[pid]) for pid in scores if pid in found]
    return [ServedItem(sku, name, scores[pid], reasons[pid]) for pid, sku, name in ordered[:k]]


def customer_recommendations(*, external_id: str, k: int, user=None) -> Served:
    """Top-k of the active run for a customer after the serving rules; popular items when there is no list.

    A partner asking about a customer who is not a shopper of its channel gets the popular items, as for an
    unknown customer: the answer does not tell whether the customer exists."""
    run = serving_run()
    if run is None:
        return Served(run_id=None, items=[], cold_start=True)
    scope, params = "", [run.pk, external_id]
    if user is not None and not is_internal(user):
        channel = channel_for_partner(user)
        if channel is None:
            scope = " AND 1 = 0"
        else:
            scope = (
                f" AND (EXISTS (SELECT 1 FROM {_table(Order)} o WHERE o.customer_id = r.customer_id"
                f" AND o.channel_id = %s) OR EXISTS (SELECT 1 FROM {_table(BehaviourEvent)} e"
                f" WHERE e.customer_id = r.customer_id AND e.channel_id = %s))"
            )
            params += [channel.pk, channel.pk]
    # One query for the stored list, the partner's scope and the stock rule together.
    rows = _fetch(
        f"SELECT p.sku, p.name, r.score, r.reason FROM {_table(CustomerRecommendation)} r"
        f" JOIN {_table(Customer)} c ON c.id = r.customer_id JOIN {_table(Product)} p ON p.id = r.product_id"
        f" WHERE r.run_id = %s AND c.external_id = %s AND {_sellable_sql('p')}{scope} ORDER BY r.rank LIMIT %s",
        [*params, k],
    )
    items = [ServedItem(*row) for row in rows]
    cold = not items
    if len(items) < k:
        items += _popular(run, k - len(items), {i.sku for i in items})
    return Served(run_id=run.pk, items=items, cold_start=cold)


def _neighbours_sql(n_products: int, exclude_basket: bool) -> str:
    marks = ", ".join(["%s"] * n_products)
    skip = f" AND s.similar_id NOT IN ({marks})" if exclude_basket else ""
    return (
        f"SELECT p.sku, p.name, s.score, s.reason FROM {_table(SimilarItem)} s"
        f" JOIN {_table(Product)} p ON p.id = s.similar_id"
        f" WHERE s.run_id = %s AND s.kind = %s AND s.product_id IN ({marks}){skip} AND {_sellable_sql('p')}"
        " ORDER BY s.rank, s.id"
    )


def similar_products(*, product: Product, kind: str = SimilarKind.SIMILAR, k: int = 10) -> Served:
    """A product's stored neighbours of one kind in the active run, after the serving rules."""
    run = serving_run()
    if run is None:
        return Served(run_id=None, items=[])
    rows = _fetch(_neighbours_sql(1, False) + " LIMIT %s", [run.pk, str(kind), product.pk, k])
    return Served(run_id=run.pk, items=[ServedItem(*row) for row in rows])


def similar_products_for(*, sku: str, user, kind: str = SimilarKind.SIMILAR, k: int = 10) -> Served | None:
    """similar_products of the product with this SKU if the user may see it, else None; one query in all."""
    run = serving_run()
    scope, scope_params = product_scope_sql(user, "q")
    if run is None:
        found = _fetch(f"SELECT q.id FROM {_table(Product)} q WHERE q.sku = %s AND {scope}", [sku, *scope_params])
        return Served(run_id=None, items=[]) if found else None
    # The product's visibility and its neighbours together: the product row comes back (with empty neighbour
    # columns when it has none), or nothing when the user may not see it.
    # Plain joins with the rules in ON, not a joined subquery: SQLite cannot flatten a join on the right of a
    # LEFT JOIN and would read every stored neighbour of the run.
    rows = _fetch(
        f"SELECT q.id, p.sku, p.name, s.score, s.reason FROM {_table(Product)} q"
        f" LEFT JOIN {_table(SimilarItem)} s ON s.product_id = q.id AND s.run_id = %s AND s.kind = %s"
        f" AND EXISTS (SELECT 1 FROM {_table(Product)} p1 WHERE p1.id = s.similar_id AND {_sellable_sql('p1')})"
        f" LEFT JOIN {_table(Product)} p ON p.id = s.similar_id"
        f" WHERE q.sku = %s AND {scope} ORDER BY s.rank, s.id LIMIT %s",
        [run.pk, str(kind), sku, *scope_params, k],
    )
    if not rows:
        return None
    return Served(run_id=run.pk, items=[ServedItem(*row[1:]) for row in rows if row[1] is not None])


def bought_together(*, products: list[Product], k: int = 10) -> Served:
    """Items to add to a basket: the stored bought-together neighbours of its products, summed; popular fill."""
    run = serving_run()
    if run is None:
        return Served(run_id=None, items=[])
    basket = sorted({p.pk for p in products})
    marks = ", ".join(["%s"] * len(basket))
    return _bought_together(run, f"{marks}", basket, len(basket), k, lambda rows: products)


def bought_together_for(*, skus: list[str], user, k: int = 10) -> tuple[Served, list[str]]:
    """bought_together of the basket's products the user may see, in one query; and the SKUs it may not see
    or that do not exist (the list is served only when there are none)."""
    skus = list(dict.fromkeys(skus))
    scope, scope_params = product_scope_sql(user, "q")
    marks = ", ".join(["%s"] * len(skus))
    basket_sql = f"SELECT q.id FROM {_table(Product)} q WHERE q.sku IN ({marks}) AND {scope}"
    basket_params = [*skus, *scope_params]
    run = serving_run()
    if run is None:
        found = {sku for _, sku in _fetch(basket_sql.replace("q.id", "q.id, q.sku", 1), basket_params)}
        return Served(run_id=None, items=[]), sorted(set(skus) - found)
    holder: dict[str, list] = {}

    def basket_of(rows) -> list[Product]:
        holder["products"] = [Product(pk=pk, sku=sku) for src, pk, sku, *_ in rows if src == 2]
        return holder["products"]

    # The basket's visible products ride along as rows of their own (src 2).
    extra = (
        f" UNION ALL SELECT 2, q.id, q.sku, q.name, 0.0, '', 0, 0 FROM {_table(Product)} q"
        f" WHERE q.sku IN ({marks}) AND {scope}"
    )
    served = _bought_together(run, basket_sql, basket_params, len(skus), k, basket_of, extra, basket_params)
    found = {p.sku for p in holder["products"]}
    return served, sorted(set(skus) - found)


def _bought_together(run, basket_sql, basket_params, n_basket, k, basket_of, extra="", extra_params=()) -> Served:
    """bought_together with the basket given as SQL (ids, or a subquery) and read back by basket_of(rows)."""
    # The popular fill rides along in the same query: baskets of rarer products often have fewer than k neighbours.
    popular = [int(entry[0]) for entry in run.popular[: k + n_basket + 50]]
    fill = ""
    if popular:
        marks = ", ".join(["%s"] * len(popular))
        fill = (
            f" UNION ALL SELECT 1, p.id, p.sku, p.name, 0.0, '', 0, 0 FROM {_table(Product)} p"
            f" WHERE p.id IN ({marks}) AND {_sellable_sql('p')}"
        )
    rows = _fetch(
        f"SELECT 0, p.id, p.sku, p.name, s.score, s.reason, s.rank, s.id FROM {_table(SimilarItem)} s"
        f" JOIN {_table(Product)} p ON p.id = s.similar_id WHERE s.run_id = %s AND s.kind = %s"
        f" AND s.product_id IN ({basket_sql}) AND s.similar_id NOT IN ({basket_sql}) AND {_sellable_sql('p')}"
        f"{fill}{extra}",
        [run.pk, str(SimilarKind.TOGETHER), *basket_params, *basket_params, *popular, *extra_params],
    )
    products = basket_of(rows)
    basket = {p.pk for p in products}
    popular = [pid for pid in popular if pid not in basket]
    best: dict[str, list] = {}
    in_stock_popular: dict[int, tuple[str, str]] = {}
    for src, pk, sku, name, score, reason, _rank, _id in sorted(rows, key=lambda r: (r[0], r[6], r[7])):
        if src == 1:
            in_stock_popular[pk] = (sku, name)
            continue
        if src == 2:
            continue
        entry = best.setdefault(sku, [name, 0.0, reason])
        entry[1] += score / len(basket)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][1], kv[0]))[:k]
    items = [ServedItem(sku, name, score, reason) for sku, (name, score, reason) in ranked]
    if len(items) < k:
        scores = {int(entry[0]): float(entry[1]) for entry in run.popular}
        taken = {i.sku for i in items} | {p.sku for p in products}
        for pid in popular:
            if len(items) >= k:
                break
            if pid in in_stock_popular and in_stock_popular[pid][0] not in taken:
                sku, name = in_stock_popular[pid]
                items.append(ServedItem(sku, name, scores[pid], "popular right now"))
    return Served(run_id=run.pk, items=items)


def purchase_history(*, customer: Customer, limit: int = 50) -> list[OrderLine]:
    """A customer's latest order lines with their products, newest first."""
    return list(
        OrderLine.objects.filter(customer=customer).select_related("product").order_by("-placed_at", "-pk")[:limit]
    )
