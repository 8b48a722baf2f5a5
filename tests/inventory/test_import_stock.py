"""import_stock: counts go through the stock ledger, re-imports change nothing, unknown keys are bad rows."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from retailai.core.models import JobRun
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    """Two products and two locations."""
    for sku in ("TEA-1", "TEA-2"):
        factories.ProductFactory(sku=sku)
    for code in ("dc-north", "shop-1"):
        factories.LocationFactory(code=code)


STOCK = """\
sku,location,on_hand,on_order,reserved
TEA-1,dc-north,120,40,5
TEA-2,dc-north,0,,
TEA-1,shop-1,8,,1
"""


def _levels() -> list[tuple]:
    return list(
        StockLevel.objects.order_by("product__sku", "location__code").values_list(
            "product__sku", "location__code", "on_hand", "on_order", "reserved"
        )
    )


def _ledger() -> list[tuple]:
    return list(
        StockMovement.objects.order_by("pk").values_list(
            "product__sku", "location__code", "kind", "quantity", "on_hand_after", "reference"
        )
    )


def test_import_sets_levels_through_the_ledger(catalogue, csv_file, run_command):
    out = run_command("import_stock", csv_file("stock.csv", STOCK))

    assert "3 rows read, 3 imported, 0 rejected" in out
    assert "stock levels created: 3" in out and "movements created: 3" in out and "levels updated: 2" in out
    assert _levels() == [
        ("TEA-1", "dc-north", 120, 40, 5),
        ("TEA-1", "shop-1", 8, 0, 1),
        ("TEA-2", "dc-north", 0, 0, 0),
    ]
    assert _ledger() == [
        ("TEA-1", "dc-north", "count", 120, 120, "import:stock.csv"),
        ("TEA-2", "dc-north", "count", 0, 0, "import:stock.csv"),
        ("TEA-1", "shop-1", "count", 8, 8, "import:stock.csv"),
    ]
    assert JobRun.objects.get().kind == "import_stock"


def test_reimport_changes_nothing_and_a_new_count_leaves_one_entry(catalogue, csv_file, run_command):
    run_command("import_stock", csv_file("stock.csv", STOCK))
    levels, ledger = _levels(), _ledger()

    again = run_command("import_stock", csv_file("stock.csv", STOCK))

    assert "stock levels created: 0" in again and "movements created: 0" in again and "levels updated: 0" in again
    assert _levels() == levels and _ledger() == ledger

    run_command("import_stock", csv_file("recount.csv", "sku,location,on_hand\nTEA-1,dc-north,117\n"))

    assert _levels()[0] == ("TEA-1", "dc-north", 117, 40, 5)
    assert _ledger()[-1] == ("TEA-1", "dc-north", "count", -3, 117, "import:recount.csv")
    assert len(_ledger()) == 4


def test_unknown_sku_or_location_refuses_the_file(catalogue, csv_file, run_command):
    path = csv_file("stock.csv", STOCK + "NOPE,dc-north,1,,\nTEA-2,nowhere,1,,\nTEA-2,shop-1,-4,,\n")

    with pytest.raises(CommandError) as raised:
        run_command("import_stock", path)

    message = str(raised.value)
    assert f"{path}:5: column sku: unknown SKU" in message
    assert f"{path}:6: column location: unknown location" in message
    assert f"{path}:7: column on_hand: must be at least 0" in message
    assert StockLevel.objects.count() == 0 and StockMovement.objects.count() == 0 and JobRun.objects.count() == 0


def test_malformed_values_and_missing_column(catalogue, csv_file, run_command):
    with pytest.raises(CommandError, match=r"stock\.csv:3: column on_hand: not a whole number"):
        run_command("import_stock", csv_file("stock.csv", STOCK.replace("TEA-2,dc-north,0", "TEA-2,dc-north,1.5")))
    with pytest.raises(CommandError, match=r"short\.csv:1: column on_hand: missing column"):
        run_command("import_stock", csv_file("short.csv", "sku,location\nTEA-1,shop-1\n"))
    assert StockLevel.objects.count() == 0 and StockMovement.objects.count() == 0


def test_skip_invalid_and_dry_run(catalogue, csv_file, run_command):
    path = csv_file("stock.csv", STOCK + "TEA-2,nowhere,1,,\nTEA-1,dc-north,3,,\n")

    dry = run_command("import_stock", path, "--dry-run", "--skip-invalid")

    assert "5 rows read, 3 would be imported, 2 rejected" in dry
    assert "stock levels created: 3" in dry and "movements created: 3" in dry
    assert StockLevel.objects.count() == 0 and StockMovement.objects.count() == 0

    out = run_command("import_stock", path, "--skip-invalid")

    assert "5 rows read, 3 imported, 2 rejected" in out
    with open(f"{path}.rejects.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["sku", "location", "on_hand", "on_order", "reserved", "reason"],
        ["TEA-2", "nowhere", "1", "", "", "column location: unknown location"],
        ["TEA-1", "dc-north", "3", "", "", "column location: repeats the sku and location of an earlier row"],
    ]
    assert _levels()[0] == ("TEA-1", "dc-north", 120, 40, 5)


HISTORY = """\
sku,location,on_hand,counted_on
TEA-1,dc-north,6,2024-03-05
TEA-1,dc-north,10,2024-03-01
TEA-1,dc-north,0,2024-03-02
TEA-1,dc-north,0,2024-03-03
"""


def _dated_ledger() -> list[tuple]:
    return [
        (sku, str(timezone.localtime(at).date()), on_hand)
        for sku, at, on_hand in StockMovement.objects.order_by("at", "pk").values_list(
            "product__sku", "at", "on_hand_after"
        )
    ]


def test_a_stock_history_goes_into_the_ledger_in_date_order_and_shows_the_days_out_of_stock(
    catalogue, csv_file, run_command
):
    from datetime import date

    from inventory.selectors import stockout_days_frame
    from retailai.commerce.models import Product

    out = run_command("import_stock", csv_file("history.csv", HISTORY))

    assert "4 rows read, 4 imported, 0 rejected" in out
    # Oldest first, each at the end of its day; the count of 3 March repeats 2 March's and adds nothing.
    assert _dated_ledger() == [("TEA-1", "2024-03-01", 10), ("TEA-1", "2024-03-02", 0), ("TEA-1", "2024-03-05", 6)]
    assert _levels() == [("TEA-1", "dc-north", 6, 0, 0)]
    tea = Product.objects.get(sku="TEA-1")
    days = stockout_days_frame(product_ids=[tea.pk], until=date(2024, 3, 6))
    assert [d.day for d in days["date"]] == [3, 4]  # empty from the evening of the 2nd until the 5th's delivery

    again = run_command("import_stock", csv_file("history.csv", HISTORY))
    assert "movements created: 0" in again and len(_dated_ledger()) == 3

    today = run_command("import_stock", csv_file("today.csv", "sku,location,on_hand\nTEA-1,dc-north,4\n"))
    assert "movements created: 1" in today and _levels() == [("TEA-1", "dc-north", 4, 0, 0)]


def test_a_dated_count_the_ledger_has_gone_past_or_in_the_future_is_a_bad_row(catalogue, csv_file, run_command):
    run_command("import_stock", csv_file("history.csv", HISTORY))
    ledger = _dated_ledger()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    path = csv_file(
        "late.csv",
        "sku,location,on_hand,counted_on,on_order\n"
        "TEA-1,dc-north,7,2024-03-04,\n"  # the ledger already has 5 March
        f"TEA-2,dc-north,1,{tomorrow},\n"
        "TEA-2,shop-1,1,2024-03-01,5\n"
        "TEA-2,shop-1,2,2024-03-02,\n"
        "TEA-2,shop-1,3,2024-03-02,\n",
    )

    with pytest.raises(CommandError) as raised:
        run_command("import_stock", path)

    message = str(raised.value)
    assert f"{path}:2: column counted_on: is not after the last stock movement of this SKU at this location" in message
    assert f"{path}:3: column counted_on: is in the future" in message
    assert f"{path}:4: column counted_on: a dated count sets on hand only" in message
    assert f"{path}:6: column counted_on: repeats the sku, location and counted_on of an earlier row" in message
    assert _dated_ledger() == ledger
