"""Import the UCI Online Retail file with import_orders and with a plain bulk_create loop; print speed and memory.

Usage (from the project root):

    python bench/import_orders.py                        # SQLite, a temporary database file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/retailai_bench python bench/import_orders.py

On PostgreSQL the database named in DATABASE_URL is dropped and re-created: point it at a scratch database.
Both paths load the same rows into the same models in one transaction, on an empty database each time.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import ctypes
import gc
import gzip
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "uci_online_retail" / "online_retail_2010-12_2011-12.csv.gz"
BATCH = 5_000


def _scratch_database() -> str:
    """Point Django at an empty scratch database; returns a description of it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = tempfile.mkdtemp(prefix="retailai-bench-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / "bench.sqlite3"
        os.environ["SQLITE_PATH"] = str(path)
        return f"SQLite {path}"
    sys.path.insert(0, str(ROOT))
    from bench._data import recreate_postgres_database

    return recreate_postgres_database(url)


def _rss_reset() -> None:
    """Free what can be freed and reset the kernel's peak-RSS mark of this process."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _rss_peak_mib() -> float:
    """Peak resident set size since the last reset, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(name: str, fn: Callable[[], None], rows: int) -> dict:
    """Run fn once; wall time, rows/s, peak RSS and the table counts it left."""
    from retailai.commerce.importing.loaders import table_counts

    _rss_reset()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    return {"path": name, "wall": wall, "rate": rows / wall, "rss": _rss_peak_mib(), "counts": table_counts()}


def _wipe() -> None:
    """Empty the tables an order import writes."""
    from django.db import connection

    from retailai.commerce.models import Channel, Customer, Order, OrderLine, Product
    from retailai.core.models import JobRun

    models = [OrderLine, Order, Customer, Product, Channel, JobRun]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(m._meta.db_table for m in models)
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            cursor.execute("VACUUM ANALYZE")
        else:
            for model in models:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")


def bulk_create_loop(path: Path) -> None:
    """The plain way: csv rows -> model instances -> bulk_create in batches of 5,000, one transaction."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db import transaction

    from retailai.commerce.importing.readers import NON_MERCHANDISE_CODES
    from retailai.commerce.models import Channel, Customer, Order, OrderLine, Product

    tz = ZoneInfo(settings.TIME_ZONE)
    products: dict[str, int] = {}
    customers: dict[str, int] = {}
    orders: dict[str, tuple] = {}
    positions: dict[str, int] = {}

    def flush(rows: list[dict], channel: Channel) -> None:
        new_products: dict[str, Product] = {}
        new_customers: dict[str, Customer] = {}
        new_orders: dict[str, Order] = {}
        parsed = []
        for row in rows:
            sku, invoice = row["StockCode"], row["InvoiceNo"]
            customer = row["CustomerID"].removesuffix(".0")
            placed = datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
            quantity, price = int(row["Quantity"]), Decimal(row["UnitPrice"])
            credit = invoice.startswith("C")
            adjustment = not credit and (invoice.startswith("A") or price < 0 or quantity < 0)
            kind = "cancellation" if credit else "adjustment" if adjustment else "sale"
            if sku not in products and sku not in new_products:
                merchandise = sku not in NON_MERCHANDISE_CODES and not sku.startswith("gift_0001_")
                new_products[sku] = Product(sku=sku, name=row["Description"], is_merchandise=merchandise)
            if customer and customer not in customers and customer not in new_customers:
                new_customers[customer] = Customer(external_id=customer, country=row["Country"], first_seen=placed)
            if invoice not in orders and invoice not in new_orders:
                order_kind = "credit" if credit else "adjustment" if adjustment else "sale"
                new_orders[invoice] = Order(
                    channel=channel, external_id=invoice, kind=order_kind, placed_at=placed, country=row["Country"]
                )
                new_orders[invoice]._customer_key = customer
            positions[invoice] = positions.get(invoice, 0) + 1
            parsed.append((invoice, positions[invoice], sku, kind, abs(quantity), abs(price)))
        Product.objects.bulk_create(new_products.values(), batch_size=BATCH)
        products.update((p.sku, p.pk) for p in new_products.values())
        Customer.objects.bulk_create(new_customers.values(), batch_size=BATCH)
        customers.update((c.external_id, c.pk) for c in new_customers.values())
        for order in new_orders.values():
            order.customer_id = customers.get(order._customer_key)
        Order.objects.bulk_create(new_orders.values(), batch_size=BATCH)
        orders.update((o.external_id, (o.pk, o.placed_at, o.customer_id)) for o in new_orders.values())
        lines = []
        for invoice, number, sku, kind, quantity, price in parsed:
            order_pk, placed, customer_pk = orders[invoice]
            lines.append(
                OrderLine(
                    order_id=order_pk,
                    line_number=number,
                    product_id=products[sku],
                    kind=kind,
                    quantity=quantity,
                    unit_price=price,
                    placed_at=placed,
                    customer_id=customer_pk,
                )
            )
        OrderLine.objects.bulk_create(lines, batch_size=BATCH)

    with transaction.atomic():
        channel, _ = Channel.objects.get_or_create(code="web", defaults={"name": "Web"})
        with (
            gzip.open(path, "rt", encoding="utf-8", newline="")
            if path.suffix == ".gz"
            else open(path, encoding="utf-8", newline="") as handle
        ):
            batch: list[dict] = []
            for row in csv.DictReader(handle):
                batch.append(row)
                if len(batch) == BATCH:
                    flush(batch, channel)
                    batch = []
            flush(batch, channel)


def main() -> None:
    """Set up the scratch database, run both paths, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="Online Retail CSV (.csv or .csv.gz).")
    parser.add_argument("--chunk-size", type=int, default=50_000, help="Chunk size of import_orders.")
    args = parser.parse_args()
    if not args.file.is_file():
        sys.exit(f"{args.file}: no such file")

    where = _scratch_database()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retailai.settings.local")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory, which would distort the RSS figures
    import django

    django.setup()
    from django.core.management import call_command

    from retailai.commerce.importing.runner import ImportOptions
    from retailai.commerce.importing.services import orders_import

    call_command("migrate", verbosity=0)
    with gzip.open(args.file, "rb") if args.file.suffix == ".gz" else open(args.file, "rb") as handle:
        rows = sum(1 for _ in handle) - 1

    options = ImportOptions(path=str(args.file), chunk_size=args.chunk_size, show_progress=False)
    results = [_measure("import_orders", lambda: orders_import(options=options, format_name="online-retail"), rows)]
    _wipe()
    results.append(_measure(f"bulk_create loop (batch {BATCH:,})", lambda: bulk_create_loop(args.file), rows))

    print(f"Online Retail import: {rows:,} rows, {where}, Django {django.get_version()}")
    print(f"{'path':<30} {'wall s':>8} {'rows/s':>10} {'peak RSS MiB':>13}  orders / lines / products / customers")
    for r in results:
        c = r["counts"]
        print(
            f"{r['path']:<30} {r['wall']:>8.1f} {r['rate']:>10,.0f} {r['rss']:>13,.0f}  "
            f"{c['orders']:,} / {c['lines']:,} / {c['products']:,} / {c['customers']:,}"
        )
    print(f"speed-up of import_orders over the bulk_create loop: {results[1]['wall'] / results[0]['wall']:.1f}x")


if __name__ == "__main__":
    main()
