"""Order, product and promotion imports: the importers run by the shared driver, and the services the commands call."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from retailai.commerce.choices import ChannelKind
from retailai.commerce.models import Category, Channel, Product, Promotion

from .framework import CsvSource, errors_frame, map_ids
from .loaders import PRICE_FORMAT, OrderPlanner, order_writer, table_counts, values_in
from .readers import ORDER_FORMATS, ProductFormat, PromotionFormat
from .runner import Importer, ImportOptions, ImportOutcome, import_file


@dataclass(frozen=True)
class ImportSummary:
    """What an import read, imported and refused; subclasses add the rows created per table."""

    path: str
    rows_read: int
    rows_imported: int
    rows_rejected: int
    dry_run: bool
    rejects_path: str | None
    job_run_id: int | None

    @classmethod
    def from_outcome(cls, outcome: ImportOutcome, **extra):
        """Build the summary from the driver's outcome and the importer's own counts."""
        return cls(
            path=outcome.path,
            rows_read=outcome.rows_read,
            rows_imported=outcome.rows_imported,
            rows_rejected=outcome.rows_rejected,
            dry_run=outcome.dry_run,
            rejects_path=outcome.rejects_path,
            job_run_id=outcome.job_run_id,
            **extra,
        )

    def describe(self) -> str:
        """A few human-readable lines for the command output."""
        verb = "would be imported" if self.dry_run else "imported"
        lines = [
            f"{self.path}: {self.rows_read} rows read, {self.rows_imported} {verb}, {self.rows_rejected} rejected."
        ]
        if self.dry_run:
            lines.append("Dry run: nothing was written; counts are what the import would create.")
        base = {f.name for f in fields(ImportSummary)}
        lines.extend(
            f"  {f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self) if f.name not in base
        )
        if self.rejects_path and self.rows_rejected:
            lines.append(f"Rejected rows written to {self.rejects_path}.")
        if self.job_run_id:
            lines.append(f"Job run #{self.job_run_id}.")
        return "\n".join(lines)


@dataclass(frozen=True)
class OrdersImportSummary(ImportSummary):
    """Outcome of an order import."""

    format: str = "generic"
    channel: str = "web"
    orders_created: int = 0
    lines_created: int = 0
    products_created: int = 0
    customers_created: int = 0


@dataclass(frozen=True)
class ProductsImportSummary(ImportSummary):
    """Outcome of a product import."""

    products_created: int = 0
    products_updated: int = 0
    categories_created: int = 0


class OrdersImporter(Importer):
    """Orders, their lines, and the products and customers they name, for one channel."""

    kind = "import_orders"
    spill = True

    def __init__(self, *, format_name: str, channel_code: str):
        self.format_name = format_name
        self.channel_code = channel_code
        self.fmt = ORDER_FORMATS[format_name](tz=settings.TIME_ZONE)
        self.channel = Channel.objects.filter(code=channel_code).first()
        self.planner = OrderPlanner(channel=self.channel)
        self.writer = None

    def parameters(self) -> dict:
        """Format and channel of the run."""
        return {"format": self.format_name, "channel": self.channel_code}

    def counts(self) -> dict[str, int]:
        """Rows in the product, customer, order and line tables."""
        return table_counts()

    def begin(self) -> None:
        """Create the channel on first use and open the writer."""
        if self.channel is None:
            kind = self.channel_code if self.channel_code in ChannelKind.values else ChannelKind.WEB
            self.channel, _ = Channel.objects.get_or_create(
                code=self.channel_code, defaults={"name": self.channel_code.replace("-", " ").title(), "kind": kind}
            )
        self.writer = order_writer(
            channel=self.channel, currency=settings.RETAILAI_CURRENCY, expected_rows=self.expected_rows
        )
        self.writer.begin()

    def write(self, rows: pd.DataFrame) -> None:
        """Upsert one chunk."""
        self.writer.write(rows)

    def finish(self) -> None:
        """Close the writer."""
        self.writer.finish()

    def plan(self, rows: pd.DataFrame) -> None:
        """Count what one chunk would create."""
        self.planner.add(rows)

    def planned(self) -> dict[str, int]:
        """What the whole file would create."""
        return self.planner.counts()


def orders_import(
    *, options: ImportOptions, format_name: str = "generic", channel_code: str = "web"
) -> OrdersImportSummary:
    """Import an order file (generic or online-retail layout) into a channel; idempotent, all or nothing."""
    if format_name not in ORDER_FORMATS:
        raise ValueError(f"Unknown order file format {format_name!r}; use one of {', '.join(ORDER_FORMATS)}.")
    outcome = import_file(OrdersImporter(format_name=format_name, channel_code=channel_code), options)
    created = outcome.created
    return OrdersImportSummary.from_outcome(
        outcome,
        format=format_name,
        channel=channel_code,
        orders_created=created.get("orders", 0),
        lines_created=created.get("lines", 0),
        products_created=created.get("products", 0),
        customers_created=created.get("customers", 0),
    )


def _decimal(value: float) -> Decimal | None:
    """A parsed amount as a 4-place Decimal (None when empty)."""
    return None if pd.isna(value) else Decimal(PRICE_FORMAT % value)


class CategoryResolver:
    """Finds categories by code or by a name path such as "Home/Kitchen", creating missing nodes when writing."""

    def __init__(self, *, create: bool):
        self.create = create
        self.cache: dict[str, int | None] = {}
        self.created = 0
        self.missing: set[str] = set()

    def resolve(self, value: str) -> int | None:
        """The pk of the category named by `value` ('' gives None)."""
        if value == "":
            return None
        if value not in self.cache:
            self.cache[value] = self._resolve(value)
        return self.cache[value]

    def _resolve(self, value: str) -> int | None:
        """Look `value` up as a code, then walk it as a path of names from the root."""
        by_code = Category.objects.filter(code=value).values_list("pk", flat=True).first()
        if by_code is not None:
            return by_code
        parent = None
        names = [part.strip() for part in value.split("/") if part.strip()]
        for depth, name in enumerate(names, start=1):
            node = Category.objects.filter(parent_id=parent, name=name).values_list("pk", flat=True).first()
            if node is None:
                path = "/".join(names[:depth])
                if not self.create:
                    self.missing.add(path)
                    return None
                node = Category.objects.create(code=self._free_code(path), name=name, parent_id=parent).pk
                self.created += 1
            parent = node
        return parent

    @staticmethod
    def _free_code(path: str) -> str:
        """A unique category code derived from the path."""
        base = (slugify(path.replace("/", "-")) or "category")[:56]
        code, n = base, 1
        while Category.objects.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        return code


_PRODUCT_FIELDS = ("name", "category_id", "brand", "unit_cost", "list_price", "active", "is_merchandise", "attributes")


class ProductsImporter(Importer):
    """Product master data upserted by SKU; only the columns present in the file are changed."""

    kind = "import_products"

    def __init__(self, *, header: list[str]):
        self.fmt = ProductFormat()
        present = set(header)
        optional = {"category": "category_id", **{c: c for c in ("brand", "unit_cost", "list_price", "active")}}
        optional["is_merchandise"] = "is_merchandise"
        self.fields = ["name"] + [f for c, f in optional.items() if c in present]
        if set(header) - {*ProductFormat.required, *ProductFormat.optional}:
            self.fields.append("attributes")
        self.categories = CategoryResolver(create=True)
        self.planner = CategoryResolver(create=False)
        self.updated = 0
        self.new_skus: set[str] = set()

    def counts(self) -> dict[str, int]:
        """Rows in the product and category tables."""
        return {"products": Product.objects.count(), "categories": Category.objects.count()}

    def _wanted(self, rows: pd.DataFrame, resolver: CategoryResolver) -> list[dict]:
        """The field values each row asks for."""
        out = []
        for row in rows.itertuples(index=False):
            out.append(
                {
                    "sku": row.sku,
                    "name": row.name,
                    "category_id": resolver.resolve(row.category),
                    "brand": row.brand,
                    "unit_cost": _decimal(row.unit_cost),
                    "list_price": _decimal(row.list_price),
                    "active": bool(row.active),
                    "is_merchandise": bool(row.is_merchandise),
                    "attributes": row.attributes,
                }
            )
        return out

    def write(self, rows: pd.DataFrame) -> None:
        """Create new products and update the ones whose values differ."""
        existing = {
            values[0]: dict(zip(("pk", *_PRODUCT_FIELDS), values[1:], strict=True))
            for values in values_in(Product, "sku", rows["sku"], "sku", "pk", *_PRODUCT_FIELDS)
        }
        new, changed, now = [], [], timezone.now()
        for wanted in self._wanted(rows, self.categories):
            old = existing.get(wanted["sku"])
            if old is None:
                new.append(Product(**wanted))
                continue
            wanted["attributes"] = {**old["attributes"], **wanted["attributes"]}
            if any(old[f] != wanted[f] for f in self.fields):
                changed.append(Product(pk=old["pk"], updated_at=now, **{f: wanted[f] for f in self.fields}))
        Product.objects.bulk_create(new, batch_size=500)
        Product.objects.bulk_update(changed, [*self.fields, "updated_at"], batch_size=500)
        self.updated += len(changed)

    def stats(self) -> dict[str, int]:
        """Existing products whose values changed."""
        return {"products_updated": self.updated}

    def plan(self, rows: pd.DataFrame) -> None:
        """Count new SKUs and missing categories."""
        known = {sku for (sku,) in values_in(Product, "sku", rows["sku"], "sku")}
        self.new_skus |= set(rows["sku"]) - known
        for value in rows["category"].unique():
            self.planner.resolve(value)

    def planned(self) -> dict[str, int]:
        """What the whole file would create."""
        return {"products": len(self.new_skus), "categories": len(self.planner.missing)}


def products_import(*, options: ImportOptions) -> ProductsImportSummary:
    """Import product master data (upsert by SKU); all or nothing unless bad rows are skipped."""
    header = CsvSource(options.path).header()
    importer = ProductsImporter(header=header)
    outcome = import_file(importer, options)
    return ProductsImportSummary.from_outcome(
        outcome,
        products_created=outcome.created.get("products", 0),
        products_updated=outcome.stats.get("products_updated", 0),
        categories_created=outcome.created.get("categories", 0),
    )


@dataclass(frozen=True)
class PromotionsImportSummary(ImportSummary):
    """Outcome of a promotion import."""

    promotions_created: int = 0
    promotions_updated: int = 0


_PROMOTION_FIELDS = (
    "name",
    "start_date",
    "end_date",
    "is_feature",
    "is_display",
    "is_price_reduction",
    "discount_depth",
    "promo_price",
)


class PromotionsImporter(Importer):
    """Promotions upserted by (promotion id, product, channel, location); unknown SKUs and channels refused."""

    kind = "import_promotions"

    def __init__(self):
        self.fmt = PromotionFormat()
        self.channels = dict(Channel.objects.values_list("code", "pk"))
        self.updated = 0
        self.new_keys: set[tuple] = set()

    def check(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Refuse unknown SKUs and channel codes."""
        skus = dict(values_in(Product, "sku", rows["sku"].unique().tolist(), "sku", "pk"))
        rows, bad_sku = map_ids(rows, "sku", skus, "product_id", "unknown SKU")
        rows, bad_channel = map_ids(rows, "channel", self.channels, "channel_id", "unknown channel", optional=True)
        return rows, errors_frame([bad_sku, bad_channel])

    def counts(self) -> dict[str, int]:
        """Rows in the promotion table."""
        return {"promotions": Promotion.objects.count()}

    @staticmethod
    def _key(code, product_id, channel_id, location) -> tuple:
        return (code, int(product_id), None if pd.isna(channel_id) else int(channel_id), location)

    def _existing(self, rows: pd.DataFrame) -> dict[tuple, dict]:
        """The stored promotions with the ids of these rows, by key."""
        columns = ("code", "product_id", "channel_id", "location_code", "pk", *_PROMOTION_FIELDS)
        return {
            self._key(*values[:4]): dict(zip(columns[4:], values[4:], strict=True))
            for values in values_in(Promotion, "code", rows["promotion_id"].unique().tolist(), *columns)
        }

    @staticmethod
    def _wanted(row) -> dict:
        return {
            "name": row.name,
            "start_date": row.start_date.date(),
            "end_date": row.end_date.date(),
            "is_feature": bool(row.is_feature),
            "is_display": bool(row.is_display),
            "is_price_reduction": bool(row.is_price_reduction),
            "discount_depth": None if pd.isna(row.discount_depth) else Decimal(f"{row.discount_depth:.4f}"),
            "promo_price": _decimal(row.promo_price),
        }

    def write(self, rows: pd.DataFrame) -> None:
        """Create new promotions and update those whose values changed."""
        existing = self._existing(rows)
        new, changed, now = [], [], timezone.now()
        for row in rows.itertuples(index=False):
            key = self._key(row.promotion_id, row.product_id, row.channel_id, row.location)
            wanted = self._wanted(row)
            old = existing.get(key)
            if old is None:
                new.append(Promotion(code=key[0], product_id=key[1], channel_id=key[2], location_code=key[3], **wanted))
            elif any(old[f] != wanted[f] for f in _PROMOTION_FIELDS):
                changed.append(Promotion(pk=old["pk"], updated_at=now, **wanted))
        Promotion.objects.bulk_create(new, batch_size=500)
        Promotion.objects.bulk_update(changed, [*_PROMOTION_FIELDS, "updated_at"], batch_size=500)
        self.updated += len(changed)

    def stats(self) -> dict[str, int]:
        """Existing promotions whose values changed."""
        return {"promotions_updated": self.updated}

    def plan(self, rows: pd.DataFrame) -> None:
        """Count the promotions the rows would create."""
        existing = self._existing(rows)
        for row in rows.itertuples(index=False):
            key = self._key(row.promotion_id, row.product_id, row.channel_id, row.location)
            if key not in existing:
                self.new_keys.add(key)

    def planned(self) -> dict[str, int]:
        """What the whole file would create."""
        return {"promotions": len(self.new_keys)}


def promotions_import(*, options: ImportOptions) -> PromotionsImportSummary:
    """Import planned and past promotions per product; idempotent, all or nothing unless bad rows are skipped."""
    outcome = import_file(PromotionsImporter(), options)
    return PromotionsImportSummary.from_outcome(
        outcome,
        promotions_created=outcome.created.get("promotions", 0),
        promotions_updated=outcome.stats.get("promotions_updated", 0),
    )
