"""Stock and supplier imports, on the shared import driver of retailai.commerce.importing.

Stock on hand is set through stock_count_set, so every change leaves a count movement in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

import pandas as pd
from django.utils import timezone

from retailai.commerce.importing.framework import LINE, RowChecks, RowFormat, errors_frame, map_ids
from retailai.commerce.importing.loaders import values_in
from retailai.commerce.importing.runner import Importer, ImportOptions, import_file
from retailai.commerce.importing.services import ImportSummary
from retailai.commerce.models import Product

from .models import Location, StockLevel, StockMovement, Supplier, SupplierProduct
from .services import stock_count_set


@dataclass(frozen=True)
class StockImportSummary(ImportSummary):
    """Outcome of a stock import."""

    stock_levels_created: int = 0
    movements_created: int = 0
    levels_updated: int = 0


@dataclass(frozen=True)
class SuppliersImportSummary(ImportSummary):
    """Outcome of a supplier import."""

    suppliers_created: int = 0
    suppliers_updated: int = 0
    supplier_products_created: int = 0
    supplier_products_updated: int = 0


class StockFormat(RowFormat):
    """Stock per SKU and location: on hand, and optionally on order and reserved."""

    name = "stock"
    required = ("sku", "location", "on_hand")
    optional = ("on_order", "reserved", "counted_on")

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk of stock rows."""
        check = RowChecks(chunk)
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "sku": check.text("sku", required=True, max_length=64),
                "location": check.text("location", required=True, max_length=50),
                "on_hand": check.integer("on_hand", minimum=0),
                "on_order": check.integer("on_order", required=False, minimum=0),
                "reserved": check.integer("reserved", required=False, minimum=0),
                "counted_on": check.date("counted_on", required=False),
            }
        )
        dated = rows["counted_on"].notna()
        repeat = rows[["sku", "location", "counted_on"]].duplicated(keep="first")
        check.fail(repeat & ~dated, "location", "repeats the sku and location of an earlier row")
        check.fail(repeat & dated, "counted_on", "repeats the sku, location and counted_on of an earlier row")
        check.fail(dated & (rows["counted_on"] > _today()), "counted_on", "is in the future")
        changes = rows[["on_order", "reserved"]].notna().any(axis=1)
        check.fail(dated & changes, "counted_on", "a dated count sets on hand only; leave on_order and reserved empty")
        return rows[~check.bad], check.errors()


def _today() -> pd.Timestamp:
    return pd.Timestamp(timezone.localdate())


def count_time(day: pd.Timestamp) -> datetime:
    """When a count dated `day` is entered in the ledger: the end of that (local) day, or now if sooner."""
    end = timezone.make_aware(datetime.combine(day.date(), time(23, 59, 59)))
    return min(end, timezone.now())


def _resolve(rows: pd.DataFrame, column: str, model, field: str, target: str, reason: str):
    """Map `column` to primary keys of `model` by `field`; rows with unknown values become errors."""
    known = dict(values_in(model, field, rows[column].unique().tolist(), field, "pk"))
    return map_ids(rows, column, known, target, reason)


class StockImporter(Importer):
    """Sets counted stock (through the ledger) and, when given, on-order and reserved quantities."""

    kind = "import_stock"

    def __init__(self, *, label: str):
        self.fmt = StockFormat()
        self.reference = f"import:{Path(label).name}"[:128]
        self.levels_updated = 0
        self.new_levels = 0
        self.new_movements = 0

    def check(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Refuse unknown SKUs and locations, and dated counts the ledger has already gone past."""
        rows, bad_sku = _resolve(rows, "sku", Product, "sku", "product_id", "unknown SKU")
        rows, bad_location = _resolve(rows, "location", Location, "code", "location_id", "unknown location")
        rows, late = self._late_counts(rows)
        return rows, errors_frame([bad_sku, bad_location, late])

    def _late_counts(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Dated rows at or before the last movement of their SKU and location, unless the ledger already holds
        that count then (the same history loaded again)."""
        dated = rows[rows["counted_on"].notna()]
        if dated.empty:
            return rows, errors_frame()
        ledger = pd.DataFrame.from_records(
            StockMovement.objects.filter(product_id__in=dated["product_id"].unique().tolist())
            .order_by("at", "pk")
            .values_list("product_id", "location_id", "at", "on_hand_after"),
            columns=["product_id", "location_id", "at", "on_hand_after"],
        )
        if ledger.empty:
            return rows, errors_frame()
        at = dated["counted_on"].map(count_time)
        # Each SKU and location's own movements, split once: a long history file must not scan the whole ledger
        # for every row.
        by_key = dict(tuple(ledger.groupby(["product_id", "location_id"], sort=False)))
        bad = []
        for (line, product_id, location_id, on_hand), when in zip(
            dated[[LINE, "product_id", "location_id", "on_hand"]].itertuples(index=False), at, strict=True
        ):
            mine = by_key.get((product_id, location_id))
            if mine is None or mine["at"].iloc[-1] < when:
                continue
            then = mine.loc[mine["at"] <= when, "on_hand_after"]
            if len(then) and int(then.iloc[-1]) == on_hand:
                continue
            last = timezone.localtime(mine["at"].iloc[-1]).strftime("%Y-%m-%d %H:%M")
            bad.append((line, f"is not after the last stock movement of this SKU at this location ({last})"))
        if not bad:
            return rows, errors_frame()
        errors = pd.DataFrame({LINE: [b[0] for b in bad], "column": "counted_on", "reason": [b[1] for b in bad]})
        return rows[~rows[LINE].isin(errors[LINE])], errors

    def counts(self) -> dict[str, int]:
        """Rows in the stock-level and movement tables."""
        return {"stock_levels": StockLevel.objects.count(), "movements": StockMovement.objects.count()}

    def write(self, rows: pd.DataFrame) -> None:
        """Apply each row: on hand through stock_count_set, on order and reserved directly."""
        products = Product.objects.in_bulk(rows["product_id"].unique().tolist())
        locations = Location.objects.in_bulk(rows["location_id"].unique().tolist())
        # A stock history goes into the ledger oldest first; undated counts are today's, after it.
        rows = rows.sort_values("counted_on", kind="stable", na_position="last")
        for row in rows.itertuples(index=False):
            dated = not pd.isna(row.counted_on)
            stock_count_set(
                product=products[row.product_id],
                location=locations[row.location_id],
                counted=int(row.on_hand),
                reference=self.reference,
                note="stock history import" if dated else "stock import",
                at=count_time(row.counted_on) if dated else None,
            )
            changes = {f: int(v) for f in ("on_order", "reserved") if not pd.isna(v := getattr(row, f))}
            if changes:
                self.levels_updated += (
                    StockLevel.objects.filter(product_id=row.product_id, location_id=row.location_id)
                    .exclude(**changes)
                    .update(**changes)
                )

    def stats(self) -> dict[str, int]:
        """Levels whose on-order or reserved quantity changed."""
        return {"levels_updated": self.levels_updated}

    def plan(self, rows: pd.DataFrame) -> None:
        """Count the levels and count movements the rows would create."""
        current = {
            (p, loc): on_hand
            for p, loc, on_hand in values_in(
                StockLevel, "product_id", rows["product_id"].unique().tolist(), "product_id", "location_id", "on_hand"
            )
        }
        for product_id, location_id, on_hand in rows[["product_id", "location_id", "on_hand"]].itertuples(index=False):
            before = current.get((product_id, location_id))
            self.new_levels += before is None
            self.new_movements += before is None or before != on_hand

    def planned(self) -> dict[str, int]:
        """What the whole file would create."""
        return {"stock_levels": self.new_levels, "movements": self.new_movements}


def stock_import(*, options: ImportOptions) -> StockImportSummary:
    """Import stock counts per SKU and location; idempotent, all or nothing unless bad rows are skipped."""
    outcome = import_file(StockImporter(label=options.path), options)
    return StockImportSummary.from_outcome(
        outcome,
        stock_levels_created=outcome.created.get("stock_levels", 0),
        movements_created=outcome.created.get("movements", 0),
        levels_updated=outcome.stats.get("levels_updated", 0),
    )


class SupplierFormat(RowFormat):
    """Supplier terms per SKU: one row per supplier and product."""

    name = "suppliers"
    required = ("supplier_code", "supplier_name", "sku", "lead_time_days", "unit_cost")
    optional = ("supplier_sku", "lead_time_std_days", "moq", "pack_size", "order_days", "is_primary")

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk of supplier terms."""
        check = RowChecks(chunk)
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "supplier_code": check.matches(
                    "supplier_code", r"[-a-zA-Z0-9_]{1,50}", "must be 1-50 letters, digits, - or _", required=True
                ),
                "supplier_name": check.text("supplier_name", required=True, max_length=200),
                "sku": check.text("sku", required=True, max_length=64),
                "supplier_sku": check.text("supplier_sku", max_length=64),
                "lead_time_days": check.integer("lead_time_days", minimum=0),
                "lead_time_std_days": check.decimal(
                    "lead_time_std_days", required=False, minimum=0, limit=1e4, default=0.0
                ),
                "moq": check.integer("moq", required=False, minimum=1, default=1),
                "pack_size": check.integer("pack_size", required=False, minimum=1, default=1),
                "unit_cost": check.decimal("unit_cost", minimum=0),
                "order_days": check.matches(
                    "order_days", r"[01]{7}", "must be seven 0/1 flags, Monday first", default="1111100"
                ),
                "is_primary": check.boolean("is_primary", default=True),
            }
        )
        key = rows[["supplier_code", "sku"]]
        check.unique(["supplier_code", "sku"], key, "repeats the supplier_code and sku of an earlier row")
        return rows[~check.bad], check.errors()


_TERM_FIELDS = (
    "supplier_sku",
    "lead_time_days",
    "lead_time_std_days",
    "moq",
    "pack_size",
    "unit_cost",
    "order_days",
    "is_primary",
)


class SuppliersImporter(Importer):
    """Suppliers upserted by code and their terms upserted by (supplier, product)."""

    kind = "import_suppliers"

    def __init__(self):
        self.fmt = SupplierFormat()
        self.suppliers_updated = 0
        self.terms_updated = 0
        self.new_suppliers: set[str] = set()
        self.new_terms: set[tuple[str, str]] = set()

    def check(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Refuse unknown SKUs."""
        return _resolve(rows, "sku", Product, "sku", "product_id", "unknown SKU")

    def counts(self) -> dict[str, int]:
        """Rows in the supplier and supplier-product tables."""
        return {"suppliers": Supplier.objects.count(), "supplier_products": SupplierProduct.objects.count()}

    def _suppliers(self, rows: pd.DataFrame) -> dict[str, int]:
        """Create missing suppliers, rename changed ones; returns code -> pk."""
        names = rows.drop_duplicates("supplier_code").set_index("supplier_code")["supplier_name"].to_dict()
        existing = {code: (pk, name) for code, pk, name in values_in(Supplier, "code", names, "code", "pk", "name")}
        Supplier.objects.bulk_create([Supplier(code=c, name=n) for c, n in names.items() if c not in existing])
        renamed = [
            Supplier(pk=existing[c][0], name=n) for c, n in names.items() if c in existing and existing[c][1] != n
        ]
        Supplier.objects.bulk_update(renamed, ["name"])
        self.suppliers_updated += len(renamed)
        return dict(values_in(Supplier, "code", names, "code", "pk"))

    def write(self, rows: pd.DataFrame) -> None:
        """Upsert the suppliers and their terms."""
        suppliers = self._suppliers(rows)
        existing = {
            (s, p): dict(zip(("pk", *_TERM_FIELDS), rest, strict=True))
            for s, p, *rest in values_in(
                SupplierProduct,
                "supplier_id",
                set(suppliers.values()),
                "supplier_id",
                "product_id",
                "pk",
                *_TERM_FIELDS,
            )
        }
        new, changed = [], []
        for row in rows.itertuples(index=False):
            wanted = {
                "supplier_sku": row.supplier_sku,
                "lead_time_days": int(row.lead_time_days),
                "lead_time_std_days": Decimal(f"{row.lead_time_std_days:.2f}"),
                "moq": int(row.moq),
                "pack_size": int(row.pack_size),
                "unit_cost": Decimal(f"{row.unit_cost:.4f}"),
                "order_days": row.order_days,
                "is_primary": bool(row.is_primary),
            }
            key = (suppliers[row.supplier_code], row.product_id)
            old = existing.get(key)
            if old is None:
                new.append(SupplierProduct(supplier_id=key[0], product_id=key[1], **wanted))
            elif any(old[f] != wanted[f] for f in _TERM_FIELDS):
                changed.append(SupplierProduct(pk=old["pk"], **wanted))
        SupplierProduct.objects.bulk_create(new, batch_size=500)
        SupplierProduct.objects.bulk_update(changed, list(_TERM_FIELDS), batch_size=500)
        self.terms_updated += len(changed)

    def stats(self) -> dict[str, int]:
        """Existing suppliers and terms whose values changed."""
        return {"suppliers_updated": self.suppliers_updated, "supplier_products_updated": self.terms_updated}

    def plan(self, rows: pd.DataFrame) -> None:
        """Count the suppliers and terms the rows would create."""
        codes = set(rows["supplier_code"])
        known = dict(values_in(Supplier, "code", codes, "code", "pk"))
        self.new_suppliers |= codes - set(known)
        have = set(values_in(SupplierProduct, "supplier_id", set(known.values()), "supplier__code", "product__sku"))
        self.new_terms |= {(c, s) for c, s in zip(rows["supplier_code"], rows["sku"], strict=True)} - have

    def planned(self) -> dict[str, int]:
        """What the whole file would create."""
        return {"suppliers": len(self.new_suppliers), "supplier_products": len(self.new_terms)}


def suppliers_import(*, options: ImportOptions) -> SuppliersImportSummary:
    """Import suppliers and their terms per SKU; idempotent, all or nothing unless bad rows are skipped."""
    outcome = import_file(SuppliersImporter(), options)
    return SuppliersImportSummary.from_outcome(
        outcome,
        suppliers_created=outcome.created.get("suppliers", 0),
        suppliers_updated=outcome.stats.get("suppliers_updated", 0),
        supplier_products_created=outcome.created.get("supplier_products", 0),
        supplier_products_updated=outcome.stats.get("supplier_products_updated", 0),
    )
