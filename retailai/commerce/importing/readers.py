"""Order file formats: the UCI Online Retail layout and the generic layout, parsed and checked chunk by chunk.

Pure pandas (no Django import). Each format turns a chunk of strings into clean order rows of one shape
(ORDER_ROW_COLUMNS) plus an errors frame; order-level values come from the first good row of each order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .framework import LINE, RowChecks, RowFormat, errors_frame

LINE_KINDS = ("sale", "cancellation", "return", "adjustment")
ORDER_KINDS = ("sale", "credit", "adjustment")
ORDER_STATUSES = ("placed", "fulfilled", "cancelled")
# Online Retail stock codes that are postage, fees, discounts, samples or vouchers rather than goods.
NON_MERCHANDISE_CODES = frozenset(
    {"POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B"}
)
NON_MERCHANDISE_PREFIXES = ("gift_0001_",)

ORDER_ROW_COLUMNS = [
    LINE,
    "order_id",
    "line_number",
    "sku",
    "product_name",
    "is_merchandise",
    "quantity",
    "unit_price",
    "discount_amount",
    "line_kind",
    "order_kind",
    "order_status",
    "placed_us",
    "customer_id",
    "country",
]
_ORDER_LEVEL = ["placed_us", "customer_id", "country", "order_kind", "order_status"]


def is_merchandise(skus: pd.Series) -> pd.Series:
    """False for the non-product codes of the Online Retail file (postage, fees, manual lines, vouchers)."""
    flag = ~skus.isin(list(NON_MERCHANDISE_CODES))
    for prefix in NON_MERCHANDISE_PREFIXES:
        flag &= ~skus.str.startswith(prefix)
    return flag


def to_epoch_us(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as integer microseconds since 1970-01-01 (exact, no float rounding)."""
    return stamps.astype("datetime64[us, UTC]").astype("int64")


class OrderRowFormat(RowFormat):
    """Shared state of the order formats: line positions and the first-row values of each order seen so far."""

    def __init__(self, *, tz: str):
        self.tz = tz
        self.start()

    def start(self) -> None:
        """Forget the orders of a previous pass."""
        self._positions: dict[str, int] = {}
        self._orders: dict[str, tuple] = {}

    def _positions_in_file(self, order_ids: pd.Series) -> pd.Series:
        """1-based position of each row within its order, in file order, across chunks (every row counts)."""
        codes, keys = pd.factorize(order_ids, sort=False)
        keys = keys.tolist()
        before = np.array([self._positions.get(k, 0) for k in keys], dtype="int64")
        position = before[codes] + pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy() + 1
        for key, n in zip(keys, np.bincount(codes, minlength=len(keys)).tolist(), strict=True):
            if key != "":
                self._positions[key] = self._positions.get(key, 0) + n
        return pd.Series(position, index=order_ids.index, dtype="int64")

    def _order_values(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Replace the order-level columns of each row by those of the first good row of its order."""
        firsts = rows.drop_duplicates("order_id")
        for key, *values in firsts[["order_id", *_ORDER_LEVEL]].itertuples(index=False):
            self._orders.setdefault(key, tuple(values))
        keys = firsts["order_id"].tolist()
        known = pd.DataFrame([self._orders[k] for k in keys], columns=_ORDER_LEVEL, index=pd.Index(keys, dtype=str))
        known.index.name = "order_id"
        out = rows.drop(columns=_ORDER_LEVEL).join(known, on="order_id")
        return out[ORDER_ROW_COLUMNS]


class OnlineRetailFormat(OrderRowFormat):
    """The UCI Online Retail file: one row per invoice line, credit notes as C-invoices with negative quantities."""

    name = "online-retail"
    required = (
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    )

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk; return its clean order rows and its errors."""
        check = RowChecks(chunk)
        invoice = check.text("InvoiceNo", required=True, max_length=64)
        sku = check.text("StockCode", required=True, max_length=64)
        description = check.text("Description").str.slice(0, 255)
        quantity = check.integer("Quantity")
        check.fail(quantity == 0, "Quantity", "must not be zero")
        price = check.decimal("UnitPrice")
        placed = check.timestamp("InvoiceDate", tz=self.tz, fmt="%Y-%m-%d %H:%M:%S")
        customer = check.text("CustomerID", max_length=66).str.replace(r"\.0+$", "", regex=True)
        check.fail(customer.str.len() > 64, "CustomerID", "longer than 64 characters")
        country = check.text("Country", max_length=64)
        line_number = self._positions_in_file(invoice)

        good = ~check.bad
        credit = invoice.str.startswith("C")
        adjustment = ~credit & (invoice.str.startswith("A") | (price < 0) | (quantity < 0))
        line_kind = np.select([credit, adjustment], ["cancellation", "adjustment"], "sale")
        order_kind = np.select([credit, adjustment], ["credit", "adjustment"], "sale")
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "order_id": invoice,
                "line_number": line_number,
                "sku": sku,
                "product_name": description,
                "is_merchandise": is_merchandise(sku),
                "quantity": quantity.abs(),
                "unit_price": price.abs(),
                "discount_amount": 0.0,
                "line_kind": line_kind,
                "order_kind": order_kind,
                "order_status": "placed",
                "placed_us": 0,
                "customer_id": customer,
                "country": country,
            }
        )[good]
        rows["quantity"] = rows["quantity"].astype("int64")
        rows["placed_us"] = to_epoch_us(placed[good])
        return self._order_values(rows), check.errors()


class GenericOrderFormat(OrderRowFormat):
    """The project's own order layout: positive quantities, line kinds spelt out, ISO times."""

    name = "generic"
    required = ("order_id", "sku", "quantity", "unit_price", "placed_at")
    optional = (
        "line_number",
        "product_name",
        "discount_amount",
        "customer_id",
        "country",
        "line_kind",
        "order_kind",
        "order_status",
        "is_merchandise",
    )

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk; return its clean order rows and its errors."""
        check = RowChecks(chunk)
        order_id = check.text("order_id", required=True, max_length=64)
        sku = check.text("sku", required=True, max_length=64)
        name = check.text("product_name").str.slice(0, 255)
        quantity = check.integer("quantity", minimum=1)
        price = check.decimal("unit_price", minimum=0)
        discount = check.decimal("discount_amount", required=False, minimum=0, default=0.0)
        placed = check.timestamp("placed_at", tz=self.tz)
        customer = check.text("customer_id", max_length=64)
        country = check.text("country", max_length=64)
        line_kind = check.choice("line_kind", LINE_KINDS, default="sale")
        order_kind = check.choice("order_kind", ORDER_KINDS, default="sale")
        status = check.choice("order_status", ORDER_STATUSES, default="placed")
        merchandise = check.boolean("is_merchandise", default=True)
        given = check.integer("line_number", required=False, minimum=1)
        position = self._positions_in_file(order_id)
        line_number = given.fillna(position)
        key = pd.DataFrame({"order_id": order_id, "line_number": line_number})
        check.unique(["order_id", "line_number"], key, "repeats the order_id and line_number of an earlier row")

        good = ~check.bad
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "order_id": order_id,
                "line_number": line_number,
                "sku": sku,
                "product_name": name,
                "is_merchandise": merchandise,
                "quantity": quantity,
                "unit_price": price,
                "discount_amount": discount,
                "line_kind": line_kind,
                "order_kind": order_kind,
                "order_status": status,
                "placed_us": 0,
                "customer_id": customer,
                "country": country,
            }
        )[good]
        rows["quantity"] = rows["quantity"].astype("int64")
        rows["line_number"] = rows["line_number"].astype("int64")
        rows["placed_us"] = to_epoch_us(placed[good])
        return self._order_values(rows), errors_frame([check.errors()])


ORDER_FORMATS: dict[str, type[OrderRowFormat]] = {"online-retail": OnlineRetailFormat, "generic": GenericOrderFormat}


class ProductFormat(RowFormat):
    """Product master data: one row per SKU; columns beyond the known ones become product attributes."""

    name = "products"
    required = ("sku", "name")
    optional = ("category", "brand", "unit_cost", "list_price", "active", "is_merchandise")

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk of products; return the clean rows and the errors."""
        check = RowChecks(chunk)
        sku = check.text("sku", required=True, max_length=64)
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "sku": sku,
                "name": check.text("name", required=True, max_length=255),
                "category": check.text("category", max_length=255),
                "brand": check.text("brand", max_length=120),
                "unit_cost": check.decimal("unit_cost", required=False, minimum=0),
                "list_price": check.decimal("list_price", required=False, minimum=0),
                "active": check.boolean("active", default=True),
                "is_merchandise": check.boolean("is_merchandise", default=True),
            }
        )
        check.unique(["sku"], sku.to_frame(), "repeats the sku of an earlier row")
        extra = [c for c in chunk.columns if c not in (LINE, *self.required, *self.optional)]
        values = chunk[extra].apply(lambda column: column.str.strip()) if extra else chunk[[]]
        rows["attributes"] = [
            {key: value for key, value in zip(extra, record, strict=True) if value != ""}
            for record in values.itertuples(index=False)
        ]
        return rows[~check.bad], check.errors()


PROMOTION_KINDS = ("feature", "display", "tpr")


class PromotionFormat(RowFormat):
    """Promotions: one row per promotion id, product and place (channel, location), with dates and kinds."""

    name = "promotions"
    required = ("promotion_id", "sku", "start_date", "end_date", "kinds")
    optional = ("name", "channel", "location", "discount_depth", "promo_price")

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Parse and check one chunk of promotions; return the clean rows and the errors."""
        check = RowChecks(chunk)
        start = check.date("start_date")
        end = check.date("end_date")
        check.fail(end < start, "end_date", "must be on or after start_date")
        kinds = check.text("kinds", required=True).str.lower()
        tokens = kinds.str.split(r"[;|+\s]+", regex=True).apply(lambda parts: {p for p in parts if p})
        unknown = tokens.apply(lambda parts: bool(parts - set(PROMOTION_KINDS)))
        check.fail((kinds != "") & unknown, "kinds", f"must be one or more of {', '.join(PROMOTION_KINDS)}")
        depth = check.decimal("discount_depth", required=False, minimum=0)
        check.fail(depth >= 1, "discount_depth", "must be below 1 (0.25 is 25% off)")
        rows = pd.DataFrame(
            {
                LINE: chunk[LINE],
                "promotion_id": check.text("promotion_id", required=True, max_length=64),
                "sku": check.text("sku", required=True, max_length=64),
                "name": check.text("name", max_length=200),
                "channel": check.text("channel", max_length=50),
                "location": check.text("location", max_length=50),
                "start_date": start,
                "end_date": end,
                "is_feature": tokens.apply(lambda parts: "feature" in parts),
                "is_display": tokens.apply(lambda parts: "display" in parts),
                "is_price_reduction": tokens.apply(lambda parts: "tpr" in parts),
                "discount_depth": depth,
                "promo_price": check.decimal("promo_price", required=False, minimum=0),
            }
        )
        key = rows[["promotion_id", "sku", "channel", "location"]]
        check.unique(["promotion_id", "sku", "channel", "location"], key, "repeats the promotion_id, sku, channel "
                     "and location of an earlier row")  # fmt: skip
        return rows[~check.bad], check.errors()
