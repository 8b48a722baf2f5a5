"""Database writes of clean order rows: COPY into a staging table on PostgreSQL, bulk upserts elsewhere.

Both writers are idempotent: rows are keyed by product SKU, customer and order external ids and
(order, line number), so writing the same rows twice leaves the same data.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import IntegrityError, connection
from django.db.models import Model

from retailai.commerce.models import Channel, Customer, Order, OrderLine, Product

from .framework import LINE, ImportFileError

IN_BATCH = 900  # stays under SQLite's bound-parameter limit
PRICE_FORMAT = "%.4f"
# PostgreSQL drops the order-line secondary indexes and foreign keys during an import of at least this many
# rows (and at least as many as the table already holds), then rebuilds them in one pass: much faster.
BULK_MIN_ROWS = 100_000


def table_counts() -> dict[str, int]:
    """Row counts of the tables an order import writes."""
    return {
        "products": Product.objects.count(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
    }


def _batches(values: list, size: int = IN_BATCH) -> Iterable[list]:
    """Slices of at most `size` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def values_in(model: type[Model], field: str, keys: Iterable, *columns: str, **filters) -> list[tuple]:
    """values_list(*columns) of the rows whose `field` is in `keys`, queried in batches."""
    out: list[tuple] = []
    for batch in _batches(list(keys)):
        out.extend(model.objects.filter(**{f"{field}__in": batch}, **filters).values_list(*columns))
    return out


def _order_level(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per order with its order-level values (the same on every row of an order)."""
    return rows.drop_duplicates("order_id")[
        ["order_id", "placed_us", "customer_id", "country", "order_kind", "order_status", LINE]
    ]


def _first_names(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU: its first non-empty product name in file order ('' when none), and its merchandise flag."""
    ordered = rows.assign(_blank=rows["product_name"] == "").sort_values(["_blank", LINE], kind="stable")
    return ordered.drop_duplicates("sku")[["sku", "product_name", "is_merchandise"]]


def _first_seen(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per known customer: the time and country of its earliest order in these rows."""
    known = orders[orders["customer_id"] != ""]
    return known.sort_values(["placed_us", LINE], kind="stable").drop_duplicates("customer_id")


def _aware(us: pd.Series) -> list[datetime]:
    """Microseconds since the epoch as aware UTC datetimes."""
    return list(pd.to_datetime(us.to_numpy(), unit="us", utc=True).to_pydatetime())


class OrderWriter:
    """Writes chunks of clean order rows for one channel inside the caller's transaction."""

    def __init__(self, *, channel: Channel, currency: str):
        self.channel = channel
        self.currency = currency

    def begin(self) -> None:
        """Prepare for a run of chunks."""

    def write(self, rows: pd.DataFrame) -> None:
        """Upsert the products, customers, orders and lines of one chunk."""
        raise NotImplementedError

    def finish(self) -> None:
        """Release what begin() set up."""


class OrmOrderWriter(OrderWriter):
    """Portable writer: Django bulk upserts (used on SQLite and any backend without COPY)."""

    def write(self, rows: pd.DataFrame) -> None:
        """Upsert the products, customers, orders and lines of one chunk."""
        if rows.empty:
            return
        products = self._products(rows)
        customers = self._customers(_order_level(rows))
        orders, created = self._orders(_order_level(rows), customers)
        fresh, known = [], []
        for order_id, number, sku, kind, qty, price, discount in rows[
            ["order_id", "line_number", "sku", "line_kind", "quantity", "unit_price", "discount_amount"]
        ].itertuples(index=False):
            order_pk, placed, customer_pk = orders[order_id]
            line = OrderLine(
                order_id=order_pk,
                line_number=number,
                product_id=products[sku],
                kind=kind,
                quantity=qty,
                unit_price=Decimal(PRICE_FORMAT % price),
                discount_amount=Decimal(PRICE_FORMAT % discount),
                placed_at=placed,
                customer_id=customer_pk,
            )
            (fresh if order_id in created else known).append(line)
        # Orders created by this chunk have no lines yet: a plain insert is cheaper than an upsert.
        OrderLine.objects.bulk_create(fresh, batch_size=5000)
        OrderLine.objects.bulk_create(
            known,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["order", "line_number"],
            update_fields=["product", "kind", "quantity", "unit_price", "discount_amount", "placed_at", "customer"],
        )

    def _products(self, rows: pd.DataFrame) -> dict[str, int]:
        """Create missing products; give a name to a product that had none. Returns sku -> pk."""
        firsts = _first_names(rows)
        existing = {sku: (pk, name) for sku, pk, name in values_in(Product, "sku", firsts["sku"], "sku", "pk", "name")}
        new, named = [], []
        for sku, name, merchandise in firsts.itertuples(index=False):
            if sku not in existing:
                new.append(Product(sku=sku, name=name, is_merchandise=bool(merchandise)))
            elif existing[sku][1] == "" and name:
                named.append(Product(pk=existing[sku][0], name=name))
        Product.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        Product.objects.bulk_update(named, ["name"], batch_size=500)
        return dict(values_in(Product, "sku", firsts["sku"], "sku", "pk"))

    def _customers(self, orders: pd.DataFrame) -> dict[str, int]:
        """Create missing customers; move first_seen (and its country) earlier when an older order shows up."""
        firsts = _first_seen(orders)
        existing = {
            ext: (pk, seen)
            for ext, pk, seen in values_in(
                Customer, "external_id", firsts["customer_id"], "external_id", "pk", "first_seen"
            )
        }
        new, moved = [], []
        for ext, seen, country in zip(
            firsts["customer_id"], _aware(firsts["placed_us"]), firsts["country"], strict=True
        ):
            if ext not in existing:
                new.append(Customer(external_id=ext, country=country, first_seen=seen))
            elif existing[ext][1] is None or seen < existing[ext][1]:
                moved.append(Customer(pk=existing[ext][0], country=country, first_seen=seen))
        Customer.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        Customer.objects.bulk_update(moved, ["country", "first_seen"], batch_size=500)
        return dict(values_in(Customer, "external_id", firsts["customer_id"], "external_id", "pk"))

    def _orders(self, orders: pd.DataFrame, customers: dict[str, int]) -> tuple[dict[str, tuple], set[str]]:
        """Upsert the orders; returns external id -> (pk, placed_at, customer pk), and the ids that are new."""
        before = {
            ext for (ext,) in values_in(Order, "external_id", orders["order_id"], "external_id", channel=self.channel)
        }
        objs = [
            Order(
                channel=self.channel,
                external_id=ext,
                customer_id=customers.get(customer),
                kind=kind,
                status=status,
                placed_at=placed,
                country=country,
                currency=self.currency,
            )
            for ext, placed, customer, country, kind, status in zip(
                orders["order_id"],
                _aware(orders["placed_us"]),
                orders["customer_id"],
                orders["country"],
                orders["order_kind"],
                orders["order_status"],
                strict=True,
            )
        ]
        Order.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["channel", "external_id"],
            update_fields=["customer", "kind", "status", "placed_at", "country"],
        )
        found = values_in(
            Order,
            "external_id",
            orders["order_id"],
            "external_id",
            "pk",
            "placed_at",
            "customer_id",
            channel=self.channel,
        )
        return {ext: (pk, placed, customer) for ext, pk, placed, customer in found}, set(orders["order_id"]) - before


# Staging tables, one per target table; each chunk is de-duplicated by pandas before COPY.
_STAGES: dict[str, dict[str, str]] = {
    "products": {"sku": "text", "product_name": "text", "is_merchandise": "boolean"},
    "customers": {"customer_id": "text", "placed_us": "bigint", "country": "text"},
    "orders": {
        "order_id": "text",
        "customer_id": "text",
        "order_kind": "text",
        "order_status": "text",
        "placed_us": "bigint",
        "country": "text",
    },
    "lines": {
        "order_id": "text",
        "line_number": "integer",
        "sku": "text",
        "line_kind": "text",
        "quantity": "integer",
        "unit_price": "numeric",
        "discount_amount": "numeric",
    },
}


class PostgresOrderWriter(OrderWriter):
    """Fast writer: COPY each chunk into temporary tables, then one set-based INSERT ... SELECT per table."""

    def __init__(self, *, channel: Channel, currency: str, expected_rows: int | None = None):
        super().__init__(channel=channel, currency=currency)
        self.expected_rows = expected_rows
        self.deferred: list[str] = []
        self.fresh = False

    def begin(self) -> None:
        """Create the staging tables (dropped by finish(), or by the rollback of a failed import)."""
        prefix = f"order_import_{uuid.uuid4().hex[:10]}"
        self.stages = {name: f"{prefix}_{name}" for name in _STAGES}
        with connection.cursor() as cursor:
            for name, columns in _STAGES.items():
                spec = ", ".join(f"{column} {kind}" for column, kind in columns.items())
                cursor.execute(f"CREATE TEMP TABLE {self.stages[name]} ({spec})")
        existing = OrderLine.objects.count()
        if self.expected_rows and self.expected_rows >= max(BULK_MIN_ROWS, existing):
            self.fresh = existing == 0
            self._set_aside_line_indexes(unique_too=self.fresh)

    def _set_aside_line_indexes(self, *, unique_too: bool) -> None:
        """Drop the line table's foreign keys and secondary indexes; finish() re-creates them from their definitions."""
        # Loading first and indexing once is far cheaper than maintaining every index row by row. When the table
        # starts empty the unique (order, line number) constraint goes too, and lines are inserted without
        # ON CONFLICT. The drops belong to the import's transaction: a failed import restores them.
        table = OrderLine._meta.db_table
        kinds = "('f', 'u')" if unique_too else "('f')"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                f"AND contype IN {kinds} ORDER BY contype DESC, conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                "WHERE indrelid = %s::regclass AND NOT indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                + ("" if unique_too else "AND NOT indisunique ")
                + "ORDER BY 1",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        self.deferred = [definition for _, definition in indexes] + [
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints
        ]

    def finish(self) -> None:
        """Re-create what begin() set aside, then drop the staging tables."""
        with connection.cursor() as cursor:
            if self.deferred:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            try:
                for statement in self.deferred:
                    cursor.execute(statement)
            except IntegrityError:
                raise ImportFileError(
                    "the file gives the same order_id and line_number to two rows in different chunks"
                ) from None
            self.deferred = []
            for stage in self.stages.values():
                cursor.execute(f"DROP TABLE IF EXISTS {stage}")

    def write(self, rows: pd.DataFrame) -> None:
        """COPY the chunk's products, customers, orders and lines into staging tables, then upsert from them."""
        if rows.empty:
            return
        orders = _order_level(rows)
        frames = {
            "products": _first_names(rows),
            "customers": _first_seen(orders),
            "orders": orders,
            "lines": rows,
        }
        params = {"channel": self.channel.pk, "currency": self.currency}
        with connection.cursor() as cursor:
            for name, frame in frames.items():
                stage = self.stages[name]
                table = pa.Table.from_pandas(frame[list(_STAGES[name])], preserve_index=False)
                buffer = io.BytesIO()
                pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
                buffer.seek(0)
                cursor.execute(f"TRUNCATE {stage}")
                cursor.cursor.copy_expert(f"COPY {stage} FROM STDIN WITH (FORMAT csv)", buffer)
            for statement in self._statements():
                cursor.execute(statement, params)

    def _statements(self) -> list[str]:
        """The four upserts, in foreign-key order, reading from the staging tables."""
        st = self.stages
        product, customer = Product._meta.db_table, Customer._meta.db_table
        order, line = Order._meta.db_table, OrderLine._meta.db_table
        placed = "(timestamptz 'epoch' + s.placed_us * interval '1 microsecond')"
        on_line_conflict = (
            ""
            if self.fresh
            else """
            ON CONFLICT (order_id, line_number) DO UPDATE SET
                product_id = EXCLUDED.product_id, kind = EXCLUDED.kind, quantity = EXCLUDED.quantity,
                unit_price = EXCLUDED.unit_price, discount_amount = EXCLUDED.discount_amount,
                placed_at = EXCLUDED.placed_at, customer_id = EXCLUDED.customer_id
            WHERE (l.product_id, l.kind, l.quantity, l.unit_price, l.discount_amount, l.placed_at, l.customer_id)
                IS DISTINCT FROM (EXCLUDED.product_id, EXCLUDED.kind, EXCLUDED.quantity, EXCLUDED.unit_price,
                                  EXCLUDED.discount_amount, EXCLUDED.placed_at, EXCLUDED.customer_id)
            """
        )
        return [
            f"""
            INSERT INTO {product} AS p (sku, name, brand, attributes, is_merchandise, active, created_at, updated_at)
            SELECT s.sku, s.product_name, '', '{{}}'::jsonb, s.is_merchandise, true, now(), now()
            FROM {st["products"]} s
            ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
            WHERE p.name = '' AND EXCLUDED.name <> ''
            """,
            f"""
            INSERT INTO {customer} AS c (external_id, country, region, first_seen, attributes, created_at)
            SELECT s.customer_id, s.country, '', {placed}, '{{}}'::jsonb, now()
            FROM {st["customers"]} s
            ON CONFLICT (external_id) DO UPDATE SET first_seen = EXCLUDED.first_seen, country = EXCLUDED.country
            WHERE c.first_seen IS NULL OR EXCLUDED.first_seen < c.first_seen
            """,
            f"""
            INSERT INTO {order} AS o
                (channel_id, external_id, customer_id, kind, status, placed_at, country, currency, created_at)
            SELECT %(channel)s, s.order_id, c.id, s.order_kind, s.order_status, {placed}, s.country, %(currency)s, now()
            FROM {st["orders"]} s
            LEFT JOIN {customer} c ON c.external_id = s.customer_id AND s.customer_id <> ''
            ON CONFLICT (channel_id, external_id) DO UPDATE SET
                customer_id = EXCLUDED.customer_id, kind = EXCLUDED.kind, status = EXCLUDED.status,
                placed_at = EXCLUDED.placed_at, country = EXCLUDED.country
            WHERE (o.customer_id, o.kind, o.status, o.placed_at, o.country)
                IS DISTINCT FROM (EXCLUDED.customer_id, EXCLUDED.kind, EXCLUDED.status, EXCLUDED.placed_at,
                                  EXCLUDED.country)
            """,
            f"""
            INSERT INTO {line} AS l
                (order_id, line_number, product_id, kind, quantity, unit_price, discount_amount, placed_at, customer_id)
            SELECT o.id, s.line_number, p.id, s.line_kind, s.quantity, s.unit_price, s.discount_amount,
                o.placed_at, o.customer_id
            FROM {st["lines"]} s
            JOIN {order} o ON o.channel_id = %(channel)s AND o.external_id = s.order_id
            JOIN {product} p ON p.sku = s.sku
            {on_line_conflict}
            """,
        ]


def order_writer(*, channel: Channel, currency: str, expected_rows: int | None = None) -> OrderWriter:
    """The fastest writer the database offers."""
    if connection.vendor == "postgresql":
        return PostgresOrderWriter(channel=channel, currency=currency, expected_rows=expected_rows)
    return OrmOrderWriter(channel=channel, currency=currency)


class OrderPlanner:
    """Counts what an import would create, reading the database only (for --dry-run)."""

    def __init__(self, *, channel: Channel | None):
        self.channel = channel
        self.new_products: set[str] = set()
        self.new_customers: set[str] = set()
        self.new_orders: set[str] = set()
        self.new_lines = 0

    def add(self, rows: pd.DataFrame) -> None:
        """Account for one chunk of clean rows."""
        if rows.empty:
            return
        skus = set(rows["sku"].unique()) - self.new_products
        self.new_products |= skus - {s for (s,) in values_in(Product, "sku", skus, "sku")}
        customers = set(rows["customer_id"].unique()) - {""} - self.new_customers
        self.new_customers |= customers - {c for (c,) in values_in(Customer, "external_id", customers, "external_id")}
        order_ids = set(rows["order_id"].unique())
        existing: set[str] = set()
        if self.channel is not None:
            existing = {
                o
                for (o,) in values_in(
                    Order, "external_id", order_ids - self.new_orders, "external_id", channel=self.channel
                )
            }
        self.new_orders |= order_ids - existing
        old = rows[rows["order_id"].isin(list(existing))]
        self.new_lines += len(rows) - len(old)
        if not old.empty:
            have = set(
                values_in(
                    OrderLine,
                    "order__external_id",
                    old["order_id"].unique(),
                    "order__external_id",
                    "line_number",
                    order__channel=self.channel,
                )
            )
            self.new_lines += sum(
                (o, n) not in have for o, n in zip(old["order_id"], old["line_number"].tolist(), strict=True)
            )

    def counts(self) -> dict[str, int]:
        """Rows that the import would create, per table."""
        return {
            "products": len(self.new_products),
            "customers": len(self.new_customers),
            "orders": len(self.new_orders),
            "lines": self.new_lines,
        }
