"""import_suppliers: suppliers by code, terms by supplier and SKU, idempotent, bad rows refused or skipped."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from inventory.models import Supplier, SupplierProduct
from retailai.core.models import JobRun
from tests import factories

pytestmark = pytest.mark.django_db

SUPPLIERS = """\
supplier_code,supplier_name,sku,lead_time_days,lead_time_std_days,moq,pack_size,unit_cost,order_days,is_primary
brewco,Brewco Ltd,TEA-1,14,2.5,12,6,4.20,1010100,yes
brewco,Brewco Ltd,TEA-2,14,,,,1.10,,
potters,Potters & Sons,TEA-1,30,4,1,1,3.95,1111111,false
"""


@pytest.fixture
def catalogue(db):
    """The products the supplier file names."""
    for sku in ("TEA-1", "TEA-2"):
        factories.ProductFactory(sku=sku)


def _terms() -> list[tuple]:
    return list(
        SupplierProduct.objects.order_by("supplier__code", "product__sku").values_list(
            "supplier__code",
            "supplier__name",
            "product__sku",
            "lead_time_days",
            "lead_time_std_days",
            "moq",
            "pack_size",
            "unit_cost",
            "order_days",
            "is_primary",
        )
    )


EXPECTED = [
    ("brewco", "Brewco Ltd", "TEA-1", 14, Decimal("2.5"), 12, 6, Decimal("4.2"), "1010100", True),
    ("brewco", "Brewco Ltd", "TEA-2", 14, Decimal("0"), 1, 1, Decimal("1.1"), "1111100", True),
    ("potters", "Potters & Sons", "TEA-1", 30, Decimal("4"), 1, 1, Decimal("3.95"), "1111111", False),
]


def test_import_creates_suppliers_and_terms(catalogue, csv_file, run_command):
    out = run_command("import_suppliers", csv_file("suppliers.csv", SUPPLIERS))

    assert "3 rows read, 3 imported, 0 rejected" in out
    assert "suppliers created: 2" in out and "supplier products created: 3" in out
    assert _terms() == EXPECTED
    assert JobRun.objects.get().kind == "import_suppliers"


def test_reimport_changes_nothing_then_updates(catalogue, csv_file, run_command):
    run_command("import_suppliers", csv_file("suppliers.csv", SUPPLIERS))

    again = run_command("import_suppliers", csv_file("suppliers.csv", SUPPLIERS))

    assert "suppliers created: 0" in again and "suppliers updated: 0" in again
    assert "supplier products created: 0" in again and "supplier products updated: 0" in again
    assert _terms() == EXPECTED

    changed = SUPPLIERS.replace("Brewco Ltd,TEA-2,14", "Brewco Limited,TEA-2,10").replace(
        "Brewco Ltd", "Brewco Limited"
    )
    out = run_command("import_suppliers", csv_file("changed.csv", changed))

    assert "suppliers updated: 1" in out and "supplier products updated: 1" in out
    assert SupplierProduct.objects.get(supplier__code="brewco", product__sku="TEA-2").lead_time_days == 10
    assert Supplier.objects.get(code="brewco").name == "Brewco Limited"
    assert SupplierProduct.objects.count() == 3


def test_bad_rows_refuse_the_file(catalogue, csv_file, run_command):
    bad = (
        "brewco,Brewco Ltd,NOPE,14,,,,1,,\nbrewco,Brewco Ltd,TEA-2,two weeks,,,,1,,\nbad code!,X,TEA-2,1,,0,,1,12345,\n"
    )
    path = csv_file("suppliers.csv", SUPPLIERS + bad)

    with pytest.raises(CommandError) as raised:
        run_command("import_suppliers", path)

    message = str(raised.value)
    assert f"{path}:5: column sku: unknown SKU" in message
    assert f"{path}:6: column lead_time_days: not a whole number" in message
    assert f"{path}:7: column supplier_code: must be 1-50 letters, digits, - or _" in message
    assert f"{path}:7: column moq: must be at least 1" in message
    assert f"{path}:7: column order_days: must be seven 0/1 flags, Monday first" in message
    assert Supplier.objects.count() == 0 and SupplierProduct.objects.count() == 0 and JobRun.objects.count() == 0


def test_missing_column(catalogue, csv_file, run_command):
    with pytest.raises(CommandError, match=r"s\.csv:1: column unit_cost: missing column"):
        run_command(
            "import_suppliers", csv_file("s.csv", "supplier_code,supplier_name,sku,lead_time_days\na,A,TEA-1,1\n")
        )
    assert Supplier.objects.count() == 0


def test_skip_invalid_and_dry_run(catalogue, csv_file, run_command, tmp_path):
    path = csv_file("suppliers.csv", SUPPLIERS + "brewco,Brewco Ltd,NOPE,14,,,,1,,\n")
    rejects = tmp_path / "rejected.csv"

    dry = run_command("import_suppliers", path, "--dry-run", "--skip-invalid")

    assert "4 rows read, 3 would be imported, 1 rejected" in dry
    assert "suppliers created: 2" in dry and "supplier products created: 3" in dry
    assert Supplier.objects.count() == 0 and SupplierProduct.objects.count() == 0 and JobRun.objects.count() == 0

    out = run_command("import_suppliers", path, "--skip-invalid", "--rejects", rejects)

    assert "4 rows read, 3 imported, 1 rejected" in out
    with open(rejects, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["sku"], r["reason"]) for r in rows] == [("NOPE", "column sku: unknown SKU")]
    assert _terms() == EXPECTED
