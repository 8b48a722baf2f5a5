"""The stock, supplier and supply-terms API: scoping per role and partner, filters, query counts."""

from decimal import Decimal

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(personas, web_channel):
    """Given a warehouse serving the web channel, a store that does not, and two products stocked at both;
    the supplier partner's supplier supplies TEA1 only."""
    warehouse = factories.LocationFactory(code="wh", name="Warehouse")
    warehouse.channels.add(web_channel)
    store = factories.LocationFactory(code="store-1", name="High Street")
    tea = factories.ProductFactory(sku="TEA1", name="Green tea")
    mug = factories.ProductFactory(sku="MUG1", name="Mug")
    levels = {
        ("TEA1", "wh"): factories.StockLevelFactory(
            product=tea, location=warehouse, on_hand=40, on_order=10, reserved=5
        ),
        ("TEA1", "store-1"): factories.StockLevelFactory(product=tea, location=store, on_hand=3),
        ("MUG1", "wh"): factories.StockLevelFactory(product=mug, location=warehouse, on_hand=0),
        ("MUG1", "store-1"): factories.StockLevelFactory(product=mug, location=store, on_hand=12),
    }
    own_supplier = personas["supplier_partner"].supplier_partner.supplier
    other_supplier = factories.SupplierFactory(code="other", name="Other Ltd")
    terms = {
        "own": factories.SupplierProductFactory(supplier=own_supplier, product=tea, supplier_sku="GT-01", moq=6),
        "other": factories.SupplierProductFactory(supplier=other_supplier, product=mug, unit_cost=Decimal("2.10")),
    }
    return {"levels": levels, "own_supplier": own_supplier, "other_supplier": other_supplier, "terms": terms}


def keys(response) -> list[tuple[str, str]]:
    return [(row["product"]["sku"], row["location"]["code"]) for row in response.json()["results"]]


ALL_LEVELS = [("MUG1", "store-1"), ("MUG1", "wh"), ("TEA1", "store-1"), ("TEA1", "wh")]


def test_anonymous_gets_401(stock, api_as):
    assert api_as(None).get("/api/stock-levels/").status_code == 401


def test_outsider_gets_403(personas, stock, api_as):
    assert api_as(personas["outsider"]).get("/api/stock-levels/").status_code == 403


@pytest.mark.parametrize("role", ["buyer", "marketer", "staff"])
def test_internal_roles_read_all_stock(personas, stock, api_as, role):
    response = api_as(personas[role]).get("/api/stock-levels/")

    assert response.status_code == 200
    assert keys(response) == ALL_LEVELS


def test_supplier_partner_reads_stock_of_what_it_supplies(personas, stock, api_as):
    client = api_as(personas["supplier_partner"])

    listing = client.get("/api/stock-levels/")
    other = client.get(f"/api/stock-levels/{stock['levels'][('MUG1', 'wh')].pk}/")

    assert keys(listing) == [("TEA1", "store-1"), ("TEA1", "wh")]
    assert other.status_code == 404


def test_channel_partner_reads_stock_at_locations_serving_its_channel(personas, stock, api_as):
    response = api_as(personas["channel_partner"]).get("/api/stock-levels/")

    assert keys(response) == [("MUG1", "wh"), ("TEA1", "wh")]


def test_detail(personas, stock, api_as):
    level = stock["levels"][("TEA1", "wh")]

    response = api_as(personas["buyer"]).get(f"/api/stock-levels/{level.pk}/")

    body = response.json()
    assert body == {
        "id": level.pk,
        "product": {"id": level.product_id, "sku": "TEA1", "name": "Green tea"},
        "location": {"id": level.location_id, "code": "wh", "name": "Warehouse"},
        "on_hand": 40,
        "on_order": 10,
        "reserved": 5,
        "available": 35,
        "inventory_position": 45,
        "updated_at": body["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sku=tea1", [("TEA1", "store-1"), ("TEA1", "wh")]),
        ("location=wh", [("MUG1", "wh"), ("TEA1", "wh")]),
        ("below=3", [("MUG1", "wh"), ("TEA1", "store-1")]),
        ("below=0&location=wh", [("MUG1", "wh")]),
    ],
)
def test_filters(personas, stock, api_as, query, expected):
    response = api_as(personas["staff"]).get(f"/api/stock-levels/?{query}")

    assert keys(response) == expected


def test_stock_is_read_only(personas, stock, api_as):
    level = stock["levels"][("TEA1", "wh")]

    response = api_as(personas["staff"]).patch(f"/api/stock-levels/{level.pk}/", {"on_hand": 1})

    assert response.status_code == 405
    level.refresh_from_db()
    assert level.on_hand == 40


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(("persona", "queries"), [("buyer", 4), ("supplier_partner", 6), ("channel_partner", 7)])
def test_stock_list_query_count_is_constant(
    personas, web_channel, api_as, django_assert_num_queries, rows, persona, queries
):
    # Given stock of products the supplier partner supplies, at a location serving the web channel
    location = factories.LocationFactory()
    location.channels.add(web_channel)
    supplier = personas["supplier_partner"].supplier_partner.supplier
    for product in factories.ProductFactory.create_batch(rows):
        factories.StockLevelFactory(product=product, location=location)
        factories.SupplierProductFactory(supplier=supplier, product=product)
    client = api_as(personas[persona])

    # token + user, roles, partner links as needed, count, page with product and location
    with django_assert_num_queries(queries):
        response = client.get("/api/stock-levels/")

    assert response.json()["count"] == rows


# --- suppliers and supply terms


def test_internal_roles_read_every_supplier(personas, stock, api_as):
    response = api_as(personas["buyer"]).get("/api/suppliers/")

    # ordered by name: "Other Ltd" before the factory's "Supplier <n>"
    assert [row["code"] for row in response.json()["results"]] == ["other", stock["own_supplier"].code]


def test_supplier_partner_reads_only_itself(personas, stock, api_as):
    client = api_as(personas["supplier_partner"])
    own = stock["own_supplier"]

    listing = client.get("/api/suppliers/")
    other = client.get(f"/api/suppliers/{stock['other_supplier'].pk}/")

    assert listing.json()["results"] == [
        {"id": own.pk, "code": own.code, "name": own.name, "email": "", "min_order_value": "0.00", "active": True}
    ]
    assert other.status_code == 404


@pytest.mark.parametrize("persona", ["channel_partner", "outsider"])
@pytest.mark.parametrize("url", ["/api/suppliers/", "/api/supplier-products/"])
def test_others_get_403_on_suppliers(personas, stock, api_as, persona, url):
    assert api_as(personas[persona]).get(url).status_code == 403


def test_supplier_partner_reads_only_its_supply_terms(personas, stock, api_as):
    terms = stock["terms"]["own"]
    own = stock["own_supplier"]

    response = api_as(personas["supplier_partner"]).get("/api/supplier-products/")

    assert response.json()["results"] == [
        {
            "id": terms.pk,
            "supplier": {"id": own.pk, "code": own.code, "name": own.name},
            "product": {"id": terms.product_id, "sku": "TEA1", "name": "Green tea"},
            "supplier_sku": "GT-01",
            "lead_time_days": 7,
            "lead_time_std_days": "0.00",
            "moq": 6,
            "pack_size": 1,
            "unit_cost": "1.2000",
            "order_days": "1111100",
            "is_primary": True,
        }
    ]


def test_supply_terms_filters(personas, stock, api_as):
    client = api_as(personas["staff"])

    by_supplier = client.get("/api/supplier-products/?supplier=other")
    by_sku = client.get("/api/supplier-products/?sku=tea1")

    assert [row["product"]["sku"] for row in by_supplier.json()["results"]] == ["MUG1"]
    assert [row["supplier"]["code"] for row in by_sku.json()["results"]] == [stock["own_supplier"].code]


@pytest.mark.parametrize("rows", [3, 30])
def test_supply_terms_list_query_count_is_constant(personas, api_as, django_assert_num_queries, rows):
    factories.SupplierProductFactory.create_batch(rows)
    client = api_as(personas["buyer"])

    # token + user, roles, count, page with supplier and product
    with django_assert_num_queries(4):
        response = client.get("/api/supplier-products/")

    assert response.json()["count"] == rows
