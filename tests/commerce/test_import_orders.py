"""import_orders: the Online Retail and generic layouts, idempotency, refusal of bad files, rejects, dry runs."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection

from retailai.commerce.importing import loaders
from retailai.commerce.models import Channel, Customer, Order, OrderLine, Product
from retailai.core.models import JobRun

pytestmark = pytest.mark.django_db

RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
# A sale with postage, its cancellation, a guest order at price 0, a stock write-off, a bad-debt adjustment and an
# earlier order of the same customer from another country (times are London summer time, UTC+1).
RETAIL_ROWS = """\
536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER, LARGE",6,2011-06-01 10:00:00,2.55,17850.0,United Kingdom
536365,POST,POSTAGE,1,2011-06-01 10:00:00,18.00,17850.0,United Kingdom
C536379,85123A,WHITE HANGING HEART,-2,2011-06-02 09:00:00,2.55,17850.0,United Kingdom
536414,22139,,56,2011-06-03 11:52:00,0,,United Kingdom
536415,22139,RETROSPOT TEA SET,-10,2011-06-03 12:00:00,0,,United Kingdom
A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom
536370,22728,ALARM CLOCK BAKELIKE PINK,24,2011-05-30 08:45:00,3.75,17850.0,France
"""


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "channels": Channel.objects.count(),
        "job_runs": JobRun.objects.count(),
    }


NOTHING = {"products": 0, "customers": 0, "orders": 0, "lines": 0, "channels": 0, "job_runs": 0}


def _snapshot() -> list[tuple]:
    return list(
        OrderLine.objects.order_by("order__external_id", "line_number").values_list(
            "order__external_id",
            "order__kind",
            "order__status",
            "order__placed_at",
            "order__customer__external_id",
            "line_number",
            "product__sku",
            "product__name",
            "product__is_merchandise",
            "kind",
            "quantity",
            "unit_price",
            "discount_amount",
            "placed_at",
            "customer__external_id",
        )
    )


@pytest.mark.parametrize("chunk_size", [50_000, 2])
def test_online_retail_rules(csv_file, run_command, chunk_size):
    path = csv_file("retail.csv", RETAIL_HEADER + RETAIL_ROWS)

    out = run_command("import_orders", path, "--format", "online-retail", "--chunk-size", chunk_size)

    assert "7 rows read, 7 imported, 0 rejected" in out
    assert "orders created: 6" in out and "lines created: 7" in out
    assert "products created: 5" in out and "customers created: 1" in out
    web = Channel.objects.get(code="web")
    sale = Order.objects.get(channel=web, external_id="536365")
    assert (sale.kind, sale.status, sale.placed_at, sale.customer.external_id) == (
        "sale",
        "placed",
        _utc(2011, 6, 1, 9, 0),
        "17850",
    )
    assert [(ln.line_number, ln.product.sku, ln.kind, ln.quantity, ln.unit_price) for ln in sale.lines.all()] == [
        (1, "85123A", "sale", 6, Decimal("2.5500")),
        (2, "POST", "sale", 1, Decimal("18.0000")),
    ]
    credit = Order.objects.get(external_id="C536379")
    assert credit.kind == "credit"
    assert list(credit.lines.values_list("kind", "quantity", "product__sku")) == [("cancellation", 2, "85123A")]
    guest = Order.objects.get(external_id="536414")
    assert guest.customer is None and guest.is_guest
    assert list(guest.lines.values_list("kind", "quantity", "unit_price", "customer")) == [
        ("sale", 56, Decimal("0"), None)
    ]
    write_off = Order.objects.get(external_id="536415")
    assert write_off.kind == "adjustment"
    assert list(write_off.lines.values_list("kind", "quantity", "unit_price")) == [("adjustment", 10, Decimal("0"))]
    bad_debt = Order.objects.get(external_id="A563186")
    assert (bad_debt.kind, bad_debt.placed_at) == ("adjustment", _utc(2011, 8, 12, 13, 51))
    assert list(bad_debt.lines.values_list("kind", "quantity", "unit_price")) == [
        ("adjustment", 1, Decimal("11062.0600"))
    ]
    products = {p.sku: (p.name, p.is_merchandise) for p in Product.objects.all()}
    assert products == {
        "85123A": ("WHITE HANGING HEART T-LIGHT HOLDER, LARGE", True),
        "POST": ("POSTAGE", False),
        "22139": ("RETROSPOT TEA SET", True),
        "B": ("Adjust bad debt", False),
        "22728": ("ALARM CLOCK BAKELIKE PINK", True),
    }
    customer = Customer.objects.get()
    assert (customer.external_id, customer.country, customer.first_seen) == (
        "17850",
        "France",
        _utc(2011, 5, 30, 7, 45),
    )
    line = OrderLine.objects.get(order=sale, line_number=1)
    assert (line.placed_at, line.customer_id) == (sale.placed_at, customer.pk)


def test_online_retail_slice(retail_slice, run_command):
    out = run_command("import_orders", retail_slice, "--format", "online-retail")

    assert "1999 rows read, 1999 imported, 0 rejected" in out
    assert {k: v for k, v in _counts().items() if k != "job_runs"} == {
        "products": 1049,
        "customers": 72,
        "orders": 97,
        "lines": 1999,
        "channels": 1,
    }
    assert OrderLine.objects.filter(kind="cancellation").count() == 26
    assert Order.objects.filter(kind="credit").count() == 6
    assert Order.objects.filter(customer__isnull=True).count() == 7
    assert set(Product.objects.filter(is_merchandise=False).values_list("sku", flat=True)) == {"POST", "D", "C2", "DOT"}
    assert OrderLine.objects.filter(unit_price=0).count() == 6
    first = Order.objects.get(external_id="536365")
    assert (first.placed_at, first.customer.external_id, first.country) == (
        _utc(2010, 12, 1, 8, 26),
        "17850",
        "United Kingdom",
    )
    assert list(first.lines.values_list("line_number", "product__sku", "quantity", "unit_price")[:2]) == [
        (1, "85123A", 6, Decimal("2.5500")),
        (2, "71053", 6, Decimal("3.3900")),
    ]
    assert first.lines.count() == 7
    assert Product.objects.get(sku="85123A").name == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert Customer.objects.get(external_id="17850").first_seen == _utc(2010, 12, 1, 8, 26)
    run = JobRun.objects.get()
    assert (run.kind, run.status, run.progress) == ("import_orders", "succeeded", 100)
    assert run.metrics["rows_read"] == 1999 and run.metrics["created"]["lines"] == 1999
    assert run.parameters["format"] == "online-retail"


def test_reimport_changes_nothing(retail_slice, run_command):
    run_command("import_orders", retail_slice, "--format", "online-retail")
    counts, snapshot = _counts(), _snapshot()
    product_times = dict(Product.objects.values_list("sku", "updated_at"))

    out = run_command("import_orders", retail_slice, "--format", "online-retail", "--chunk-size", 500)

    assert "orders created: 0" in out and "lines created: 0" in out
    assert "products created: 0" in out and "customers created: 0" in out
    assert _counts() == {**counts, "job_runs": 2}
    assert _snapshot() == snapshot
    assert dict(Product.objects.values_list("sku", "updated_at")) == product_times


def test_gzip_file_and_other_channel(csv_file, run_command):
    path = csv_file("retail.csv.gz", RETAIL_HEADER + RETAIL_ROWS)

    run_command("import_orders", path, "--format", "online-retail", "--channel", "store")

    assert Channel.objects.get().kind == "store"
    assert Order.objects.filter(channel__code="store").count() == 6


GENERIC = """\
order_id,line_number,sku,product_name,quantity,unit_price,discount_amount,placed_at,customer_id,country,line_kind,order_status
W-1,1,SKU-1,Teapot,2,10.50,1.00,2024-03-01T12:30:00,cust-1,United Kingdom,,fulfilled
W-1,2,SKU-2,Cup,4,3,,2024-03-01T12:30:00,cust-1,United Kingdom,sale,fulfilled
W-2,,SKU-1,Teapot (blue),1,10.50,,2024-07-01T10:00:00+02:00,,,return,
W-2,,SKU-2,,1,3,0,2024-07-01T10:00:00+02:00,,,return,
"""


def test_generic_format(csv_file, run_command):
    path = csv_file("orders.csv", GENERIC)

    out = run_command("import_orders", path)

    assert "orders created: 2" in out and "lines created: 4" in out
    assert _snapshot() == [
        (
            "W-1",
            "sale",
            "fulfilled",
            _utc(2024, 3, 1, 12, 30),
            "cust-1",
            1,
            "SKU-1",
            "Teapot",
            True,
            "sale",
            2,
            Decimal("10.5"),
            Decimal("1"),
            _utc(2024, 3, 1, 12, 30),
            "cust-1",
        ),
        (
            "W-1",
            "sale",
            "fulfilled",
            _utc(2024, 3, 1, 12, 30),
            "cust-1",
            2,
            "SKU-2",
            "Cup",
            True,
            "sale",
            4,
            Decimal("3"),
            Decimal("0"),
            _utc(2024, 3, 1, 12, 30),
            "cust-1",
        ),
        (
            "W-2",
            "sale",
            "placed",
            _utc(2024, 7, 1, 8, 0),
            None,
            1,
            "SKU-1",
            "Teapot",
            True,
            "return",
            1,
            Decimal("10.5"),
            Decimal("0"),
            _utc(2024, 7, 1, 8, 0),
            None,
        ),
        (
            "W-2",
            "sale",
            "placed",
            _utc(2024, 7, 1, 8, 0),
            None,
            2,
            "SKU-2",
            "Cup",
            True,
            "return",
            1,
            Decimal("3"),
            Decimal("0"),
            _utc(2024, 7, 1, 8, 0),
            None,
        ),
    ]


def test_generic_changed_values_update_in_place(csv_file, run_command):
    run_command("import_orders", csv_file("orders.csv", GENERIC))
    changed = GENERIC.replace("W-1,2,SKU-2,Cup,4,3,", "W-1,2,SKU-2,Cup,5,2.75,")

    out = run_command("import_orders", csv_file("orders2.csv", changed))

    assert "lines created: 0" in out
    line = OrderLine.objects.get(order__external_id="W-1", line_number=2)
    assert (line.quantity, line.unit_price) == (5, Decimal("2.75"))
    assert OrderLine.objects.count() == 4


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (
            "536366,22633,HAND WARMER,6,2010-13-01 08:28:00,1.85,17850.0,United Kingdom",
            ":3: column InvoiceDate: not a valid date and time",
        ),
        (
            "536366,22633,HAND WARMER,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
            ":3: column Quantity: not a whole number",
        ),
        ("536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1,85,17850.0,United Kingdom", ":3: malformed CSV"),
        (
            "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,abc,17850.0,United Kingdom",
            ":3: column UnitPrice: not a number",
        ),
        (
            "536366,22633,HAND WARMER,0,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
            ":3: column Quantity: must not be zero",
        ),
        (
            ",22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
            ":3: column InvoiceNo: a value is required",
        ),
    ],
)
def test_bad_row_refuses_the_whole_file(csv_file, run_command, row, where):
    good = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
    path = csv_file("bad.csv", RETAIL_HEADER + good + row + "\n" + good.replace("536365", "536367"))

    with pytest.raises(CommandError) as raised:
        run_command("import_orders", path, "--format", "online-retail")

    assert f"{path}{where}" in str(raised.value)
    assert "Nothing was imported" in str(raised.value)
    assert _counts() == NOTHING


def test_missing_column_is_named(csv_file, run_command):
    path = csv_file(
        "bad.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,CustomerID,Country\n1,2,x,1,2011-01-01 10:00:00,,UK\n",
    )

    with pytest.raises(CommandError) as raised:
        run_command("import_orders", path, "--format", "online-retail")

    assert f"{path}:1: column UnitPrice: missing column" in str(raised.value)
    assert _counts() == NOTHING


def test_error_report_lists_the_first_twenty(csv_file, run_command):
    rows = "".join(f"5{n:05d},SKU{n},X,,2011-01-01 10:00:00,1,,UK\n" for n in range(25))
    path = csv_file("bad.csv", RETAIL_HEADER + rows)

    with pytest.raises(CommandError) as raised:
        run_command("import_orders", path, "--format", "online-retail")

    message = str(raised.value)
    assert message.count(": column Quantity: a value is required") == 20
    assert f"{path}:21: column Quantity" in message and f"{path}:22: column Quantity" not in message
    assert "... and 5 more errors." in message
    assert f"25 bad rows (25 errors) in {path}." in message
    assert _counts() == NOTHING


def test_skip_invalid_writes_rejects_and_imports_the_rest(csv_file, run_command):
    bad = (
        "536366,22633,HAND WARMER,six,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n"
        "536367,22633,HAND WARMER,6,yesterday,-,,United Kingdom\n"
    )
    path = csv_file("mixed.csv", RETAIL_HEADER + RETAIL_ROWS + bad)

    out = run_command("import_orders", path, "--format", "online-retail", "--skip-invalid")

    assert "9 rows read, 7 imported, 2 rejected" in out
    assert f"Rejected rows written to {path}.rejects.csv" in out
    with open(f"{path}.rejects.csv", newline="", encoding="utf-8") as handle:
        rejects = list(csv.reader(handle))
    assert rejects == [
        [*RETAIL_HEADER.strip().split(","), "reason"],
        [
            "536366",
            "22633",
            "HAND WARMER",
            "six",
            "2010-12-01 08:28:00",
            "1.85",
            "17850.0",
            "United Kingdom",
            "column Quantity: not a whole number",
        ],
        [
            "536367",
            "22633",
            "HAND WARMER",
            "6",
            "yesterday",
            "-",
            "",
            "United Kingdom",
            "column UnitPrice: not a number; column InvoiceDate: not a valid date and time",
        ],
    ]
    assert OrderLine.objects.count() == 7
    assert not Order.objects.filter(external_id__in=["536366", "536367"]).exists()
    assert JobRun.objects.get().metrics["rows_rejected"] == 2


def test_skip_invalid_rejects_path_option(csv_file, run_command, tmp_path):
    path = csv_file("mixed.csv", GENERIC + "W-3,,SKU-3,,0,1,,2024-01-01,,,,\n")
    target = tmp_path / "out" / "bad-rows.csv"

    run_command("import_orders", path, "--skip-invalid", "--rejects", target)

    assert target.read_text().splitlines()[1].endswith(",column quantity: must be at least 1")
    assert OrderLine.objects.count() == 4


def test_dry_run_writes_nothing(csv_file, run_command):
    path = csv_file("retail.csv", RETAIL_HEADER + RETAIL_ROWS)

    out = run_command("import_orders", path, "--format", "online-retail", "--dry-run")

    assert "Dry run: nothing was written" in out
    assert "orders created: 6" in out and "lines created: 7" in out
    assert "products created: 5" in out and "customers created: 1" in out
    assert _counts() == NOTHING
    assert not (path.parent / "retail.csv.rejects.csv").exists()


def test_dry_run_after_import_counts_only_new_rows(csv_file, run_command):
    run_command("import_orders", csv_file("orders.csv", GENERIC))
    more = GENERIC + "W-2,3,SKU-9,Saucer,1,2,,2024-07-01T10:00:00+02:00,cust-2,,,\n"

    out = run_command("import_orders", csv_file("more.csv", more), "--dry-run")

    assert "orders created: 0" in out and "lines created: 1" in out
    assert "products created: 1" in out and "customers created: 0" in out
    assert OrderLine.objects.count() == 4


def test_dry_run_reports_bad_rows(csv_file, run_command):
    path = csv_file("bad.csv", GENERIC + "W-3,,SKU-3,,2,1,,not a date,,,,\n")

    with pytest.raises(CommandError, match=r"bad\.csv:6: column placed_at: not a valid date and time"):
        run_command("import_orders", path, "--dry-run")
    assert _counts() == NOTHING


def test_duplicate_line_numbers_are_refused(csv_file, run_command):
    path = csv_file("dup.csv", GENERIC.replace("W-1,2,", "W-1,1,"))

    with pytest.raises(CommandError, match=r"dup\.csv:3: column line_number: repeats"):
        run_command("import_orders", path)
    assert _counts() == NOTHING


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bulk mode exists on PostgreSQL only")
def test_postgres_bulk_mode_restores_indexes_and_keys(retail_slice, run_command, monkeypatch):
    def shape():
        found = connection.introspection.get_constraints(connection.cursor(), OrderLine._meta.db_table)
        return sorted((name, tuple(c["columns"]), c["foreign_key"], c["unique"]) for name, c in found.items())

    before = shape()
    monkeypatch.setattr(loaders, "BULK_MIN_ROWS", 1)

    run_command("import_orders", retail_slice, "--format", "online-retail", "--chunk-size", 700)

    assert shape() == before
    assert OrderLine.objects.count() == 1999
    assert OrderLine.objects.filter(order__external_id="536365").count() == 7


def test_generic_times_without_offset_are_london_time(csv_file, run_command):
    path = csv_file(
        "times.csv",
        "order_id,sku,quantity,unit_price,placed_at\n"
        "T-1,SKU-1,1,1,2024-07-01\n"
        "T-2,SKU-1,1,1,2024-01-15 09:30\n"
        "T-3,SKU-1,1,1,2024-07-01T09:30:00Z\n",
    )

    run_command("import_orders", path)

    assert dict(Order.objects.values_list("external_id", "placed_at")) == {
        "T-1": _utc(2024, 6, 30, 23, 0),
        "T-2": _utc(2024, 1, 15, 9, 30),
        "T-3": _utc(2024, 7, 1, 9, 30),
    }
