"""Deterministic demo master data derived from the order history sample (pure pandas, no Django)."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pandas as pd

NON_MERCHANDISE = {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "B"}

# Keyword → category path; the first match in this order wins.
CATEGORY_RULES: list[tuple[str, str]] = [
    ("CHRISTMAS", "Seasonal/Christmas"),
    ("NECKLACE", "Jewellery & accessories"),
    ("EARRINGS", "Jewellery & accessories"),
    ("BRACELET", "Jewellery & accessories"),
    ("RING", "Jewellery & accessories"),
    ("HAIR", "Jewellery & accessories"),
    ("PURSE", "Jewellery & accessories"),
    ("PARASOL", "Jewellery & accessories"),
    ("UMBRELLA", "Jewellery & accessories"),
    ("EASTER", "Seasonal/Easter"),
    ("CANDLE", "Home/Candles & lights"),
    ("T-LIGHT", "Home/Candles & lights"),
    ("LIGHT", "Home/Candles & lights"),
    ("LANTERN", "Home/Candles & lights"),
    ("BOWL", "Kitchen/Tableware"),
    ("PLATE", "Kitchen/Tableware"),
    ("TRAY", "Kitchen/Tableware"),
    ("JAR", "Kitchen/Tableware"),
    ("GLASS", "Kitchen/Tableware"),
    ("NAPKIN", "Kitchen/Tableware"),
    ("KITCHEN", "Kitchen/Tableware"),
    ("MUG", "Kitchen/Mugs & cups"),
    ("CUP", "Kitchen/Mugs & cups"),
    ("TEA", "Kitchen/Tea & baking"),
    ("CAKE", "Kitchen/Tea & baking"),
    ("BAKING", "Kitchen/Tea & baking"),
    ("LUNCH", "Kitchen/Lunch boxes & bottles"),
    ("BOTTLE", "Kitchen/Lunch boxes & bottles"),
    ("BAG", "Bags & storage/Bags"),
    ("BOX", "Bags & storage/Boxes & tins"),
    ("TIN", "Bags & storage/Boxes & tins"),
    ("CARD", "Stationery & gifts/Cards & wrap"),
    ("WRAP", "Stationery & gifts/Cards & wrap"),
    ("NOTEBOOK", "Stationery & gifts/Stationery"),
    ("PEN", "Stationery & gifts/Stationery"),
    ("STICKER", "Stationery & gifts/Stationery"),
    ("PAPER", "Stationery & gifts/Stationery"),
    ("LETTER", "Stationery & gifts/Stationery"),
    ("RIBBON", "Stationery & gifts/Crafts"),
    ("FELTCRAFT", "Stationery & gifts/Crafts"),
    ("KIT", "Stationery & gifts/Crafts"),
    ("MAGNET", "Stationery & gifts/Gifts"),
    ("KEY", "Stationery & gifts/Gifts"),
    ("SIGN", "Home/Decorations"),
    ("HEART", "Home/Decorations"),
    ("DECORATION", "Home/Decorations"),
    ("FRAME", "Home/Decorations"),
    ("CLOCK", "Home/Decorations"),
    ("DOORMAT", "Home/Hardware & fittings"),
    ("KNOB", "Home/Hardware & fittings"),
    ("HOOK", "Home/Hardware & fittings"),
    ("MIRROR", "Home/Hardware & fittings"),
    ("TILE", "Home/Hardware & fittings"),
    ("WALL ART", "Home/Decorations"),
    ("GARLAND", "Home/Decorations"),
    ("CUSHION", "Home/Textiles"),
    ("APRON", "Home/Textiles"),
    ("TOY", "Kids/Toys & games"),
    ("GAME", "Kids/Toys & games"),
    ("CHILDREN", "Kids/Toys & games"),
    ("PARTY", "Stationery & gifts/Party"),
    ("GARDEN", "Garden"),
]

SUPPLIERS = [
    ("harbour-homewares", "Harbour Homewares Ltd", 7),
    ("north-sea-imports", "North Sea Imports", 21),
    ("kent-paper-co", "Kent Paper Co.", 5),
    ("pearl-river-trading", "Pearl River Trading", 35),
    ("midlands-gifts", "Midlands Gift Wholesale", 10),
    ("lakeside-kitchen", "Lakeside Kitchen Supply", 14),
]
PACK_SIZES = np.array([1, 2, 3, 4, 6, 8, 10, 12, 24, 25, 48, 50, 72, 96, 100, 144])


def stable_fraction(key: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by the key, the same on every machine and run."""
    return (zlib.crc32(f"{salt}:{key}".encode()) % 1_000_003) / 1_000_003


def category_for(description: str) -> str:
    """The category path of a product description by keyword, 'Other' when none matches."""
    text = description.upper()
    for keyword, path in CATEGORY_RULES:
        if re.search(rf"\b{re.escape(keyword)}(S|ES)?\b", text):
            return path
    return "Other"


def _is_merchandise(code: str) -> bool:
    return code.upper() not in NON_MERCHANDISE and not code.lower().startswith("gift_")


def demo_master_data(orders: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Products with categories, suppliers with terms, and opening stock, from Online Retail rows."""
    df = orders.copy()
    df["Quantity"] = pd.to_numeric(df["Quantity"], errors="coerce")
    df["UnitPrice"] = pd.to_numeric(df["UnitPrice"], errors="coerce")
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], errors="coerce")
    df = df[df["StockCode"].map(_is_merchandise)]
    sales = df[(~df["InvoiceNo"].str.startswith("C")) & (df["Quantity"] > 0) & (df["UnitPrice"] > 0)]

    per_sku = sales.groupby("StockCode").agg(
        name=("Description", "first"),
        price=("UnitPrice", "median"),
        typical_qty=("Quantity", lambda q: q.mode().iloc[0]),
    )
    per_sku["category"] = per_sku["name"].fillna("").map(category_for)
    products = pd.DataFrame(
        {
            "sku": per_sku.index,
            "name": per_sku["name"].values,
            "category": per_sku["category"].values,
            "list_price": per_sku["price"].round(2).values,
            "unit_cost": (per_sku["price"] * 0.55).round(2).values,
        }
    )

    rows = []
    for sku, rec in per_sku.iterrows():
        idx = int(stable_fraction(sku, "supplier") * len(SUPPLIERS))
        code, _, base_lead = SUPPLIERS[idx]
        lead = max(2, int(round(base_lead * (0.8 + 0.4 * stable_fraction(sku, "lead")))))
        pack = int(PACK_SIZES[PACK_SIZES <= max(1, rec["typical_qty"])].max())
        rows.append(
            {
                "supplier_code": code,
                "supplier_name": dict((c, n) for c, n, _ in SUPPLIERS)[code],
                "sku": sku,
                "lead_time_days": lead,
                "lead_time_std_days": round(lead * (0.1 + 0.2 * stable_fraction(sku, "ltstd")), 2),
                "moq": pack * (1 + int(3 * stable_fraction(sku, "moq"))),
                "pack_size": pack,
                "unit_cost": round(float(rec["price"]) * 0.55, 2),
                "order_days": "1111100",
                "is_primary": "true",
            }
        )
    suppliers = pd.DataFrame(rows)

    last_day = sales["InvoiceDate"].max().normalize()
    recent = sales[sales["InvoiceDate"] >= last_day - pd.Timedelta(days=28)]
    daily = recent.groupby("StockCode")["Quantity"].sum() / 28.0
    stock = []
    for sku in per_sku.index:
        cover_days = 5 + 40 * stable_fraction(sku, "cover")
        on_hand = int(np.ceil(daily.get(sku, 0.0) * cover_days)) if stable_fraction(sku, "oos") > 0.06 else 0
        stock.append({"sku": sku, "location": "london-dc", "on_hand": on_hand})
    return {"products": products, "suppliers": suppliers, "stock": pd.DataFrame(stock)}
