"""import_products: upsert by SKU, categories by code or path, extra columns as attributes, bad files refused."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from retailai.commerce.models import Category, Product
from retailai.core.models import JobRun
from tests import factories

pytestmark = pytest.mark.django_db

PRODUCTS = """\
sku,name,category,brand,unit_cost,list_price,active,colour,size
TEA-1,Teapot,Home/Kitchen,Brewco,4.20,12.50,true,red,
TEA-2,Cup,home-kitchen,Brewco,1,3.5,,white,M
TEA-3,Gift card,,,,,no,,
"""


def _products() -> list[tuple]:
    return list(
        Product.objects.order_by("sku").values_list(
            "sku", "name", "category__code", "brand", "unit_cost", "list_price", "active", "attributes"
        )
    )


def test_import_creates_products_and_categories(csv_file, run_command):
    out = run_command("import_products", csv_file("products.csv", PRODUCTS))

    assert "3 rows read, 3 imported, 0 rejected" in out
    assert "products created: 3" in out and "categories created: 2" in out
    assert _products() == [
        ("TEA-1", "Teapot", "home-kitchen", "Brewco", Decimal("4.2"), Decimal("12.5"), True, {"colour": "red"}),
        (
            "TEA-2",
            "Cup",
            "home-kitchen",
            "Brewco",
            Decimal("1"),
            Decimal("3.5"),
            True,
            {"colour": "white", "size": "M"},
        ),
        ("TEA-3", "Gift card", None, "", None, None, False, {}),
    ]
    kitchen = Category.objects.get(code="home-kitchen")
    assert (kitchen.name, kitchen.parent.name, kitchen.parent.code) == ("Kitchen", "Home", "home")
    assert JobRun.objects.get().kind == "import_products"


def test_reimport_changes_nothing_and_updates_what_changed(csv_file, run_command):
    run_command("import_products", csv_file("products.csv", PRODUCTS))
    before, stamps = _products(), dict(Product.objects.values_list("sku", "updated_at"))

    again = run_command("import_products", csv_file("products.csv", PRODUCTS))

    assert "products created: 0" in again and "products updated: 0" in again and "categories created: 0" in again
    assert _products() == before
    assert dict(Product.objects.values_list("sku", "updated_at")) == stamps

    changed = run_command("import_products", csv_file("prices.csv", "sku,name,list_price,size\nTEA-1,Teapot,13.00,L\n"))

    assert "products created: 0" in changed and "products updated: 1" in changed
    teapot = Product.objects.get(sku="TEA-1")
    assert (teapot.list_price, teapot.unit_cost, teapot.brand) == (Decimal("13"), Decimal("4.2"), "Brewco")
    assert teapot.attributes == {"colour": "red", "size": "L"}


def test_existing_category_code_is_used(csv_file, run_command):
    factories.CategoryFactory(code="mugs", name="Mugs")

    run_command("import_products", csv_file("products.csv", "sku,name,category\nM-1,Mug,mugs\n"))

    assert Product.objects.get().category.code == "mugs"
    assert Category.objects.count() == 1


def test_bad_number_refuses_the_file(csv_file, run_command):
    path = csv_file("products.csv", PRODUCTS.replace("1,3.5", "1,3,5"))

    with pytest.raises(CommandError) as raised:
        run_command("import_products", path)

    assert f"{path}:3: malformed CSV" in str(raised.value)
    assert Product.objects.count() == 0 and Category.objects.count() == 0 and JobRun.objects.count() == 0


def test_bad_values_are_named_and_nothing_written(csv_file, run_command):
    path = csv_file("products.csv", PRODUCTS.replace("4.20", "four").replace(",no,", ",maybe,"))

    with pytest.raises(CommandError) as raised:
        run_command("import_products", path)

    message = str(raised.value)
    assert f"{path}:2: column unit_cost: not a number" in message
    assert f"{path}:4: column active: must be true or false" in message
    assert "2 bad rows (2 errors)" in message
    assert Product.objects.count() == 0 and Category.objects.count() == 0


def test_missing_name_column(csv_file, run_command):
    path = csv_file("products.csv", "sku,brand\nX,Y\n")

    with pytest.raises(CommandError, match=r"products\.csv:1: column name: missing column"):
        run_command("import_products", path)
    assert Product.objects.count() == 0


def test_skip_invalid_and_dry_run(csv_file, run_command):
    path = csv_file("products.csv", PRODUCTS + "TEA-4,,,,-1,,,,\nTEA-1,Teapot again,,,,,,,\n")

    dry = run_command("import_products", path, "--skip-invalid", "--dry-run")

    assert "5 rows read, 3 would be imported, 2 rejected" in dry
    assert "products created: 3" in dry and "categories created: 2" in dry
    assert Product.objects.count() == 0 and Category.objects.count() == 0
    assert not (path.parent / "products.csv.rejects.csv").exists()

    out = run_command("import_products", path, "--skip-invalid")

    assert "5 rows read, 3 imported, 2 rejected" in out
    with open(f"{path}.rejects.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["sku"], r["reason"]) for r in rows] == [
        ("TEA-4", "column name: a value is required; column unit_cost: must be at least 0"),
        ("TEA-1", "column sku: repeats the sku of an earlier row"),
    ]
    assert Product.objects.get(sku="TEA-1").name == "Teapot"
