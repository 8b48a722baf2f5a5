"""The products and categories API: who reads what, Staff writes, filters, query counts."""

from decimal import Decimal

import pytest

from retailai.commerce.models import Category, Product
from tests import factories

pytestmark = pytest.mark.django_db

INTERNAL = ["buyer", "marketer", "staff"]


@pytest.fixture
def catalogue(personas):
    """Given two categories, five products, one of them supplied by the supplier partner's supplier."""
    food = factories.CategoryFactory(code="food", name="Food")
    tea = factories.CategoryFactory(code="tea", name="Tea", parent=food)
    products = {
        "TEA1": factories.ProductFactory(sku="TEA1", name="Green tea", category=tea, brand="Leafy"),
        "TEA2": factories.ProductFactory(sku="TEA2", name="Black tea", category=tea, brand="Other"),
        "BIS1": factories.ProductFactory(sku="BIS1", name="Biscuits", category=food, brand="Leafy"),
        "OLD1": factories.ProductFactory(sku="OLD1", name="Retired tea", category=tea, active=False),
        "POST": factories.ProductFactory(sku="POST", name="Postage", category=None, is_merchandise=False),
    }
    supplier = personas["supplier_partner"].supplier_partner.supplier
    factories.SupplierProductFactory(supplier=supplier, product=products["TEA1"])
    factories.SupplierProductFactory(supplier=supplier, product=products["OLD1"])
    factories.SupplierProductFactory(product=products["TEA2"])  # another supplier's
    return {"food": food, "tea": tea, **products}


def skus(response) -> list[str]:
    return [row["sku"] for row in response.json()["results"]]


def test_anonymous_gets_401(catalogue, api_as):
    response = api_as(None).get("/api/products/")

    assert response.status_code == 401


def test_outsider_gets_403(personas, catalogue, api_as):
    response = api_as(personas["outsider"]).get("/api/products/")

    assert response.status_code == 403


@pytest.mark.parametrize("role", INTERNAL)
def test_internal_roles_read_every_product(personas, catalogue, api_as, role):
    response = api_as(personas[role]).get("/api/products/")

    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert skus(response) == ["BIS1", "OLD1", "POST", "TEA1", "TEA2"]


def test_supplier_partner_reads_only_what_it_supplies(personas, catalogue, api_as):
    client = api_as(personas["supplier_partner"])

    listing = client.get("/api/products/")
    other = client.get(f"/api/products/{catalogue['TEA2'].pk}/")

    assert skus(listing) == ["OLD1", "TEA1"]
    assert other.status_code == 404


def test_second_partner_user_of_a_supplier_does_not_duplicate_rows(personas, catalogue, api_as):
    # Given a second partner user acting for the same supplier
    supplier = personas["supplier_partner"].supplier_partner.supplier
    factories.SupplierPartnerFactory(supplier=supplier, user__username="supplier_partner_2")

    response = api_as(personas["supplier_partner"]).get("/api/products/")

    assert skus(response) == ["OLD1", "TEA1"]


def test_channel_partner_reads_active_merchandise_without_cost(personas, catalogue, api_as):
    response = api_as(personas["channel_partner"]).get("/api/products/")

    assert skus(response) == ["BIS1", "TEA1", "TEA2"]
    assert "unit_cost" not in response.json()["results"][0]


def test_detail_nests_the_category(personas, catalogue, api_as):
    product = catalogue["TEA1"]

    response = api_as(personas["buyer"]).get(f"/api/products/{product.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": product.pk,
        "sku": "TEA1",
        "name": "Green tea",
        "category": {"id": catalogue["tea"].pk, "name": "Tea"},
        "brand": "Leafy",
        "unit_cost": "1.5000",
        "list_price": "2.9500",
        "attributes": {},
        "is_merchandise": True,
        "active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sku=tea1", ["TEA1"]),
        ("brand=leafy", ["BIS1", "TEA1"]),
        ("active=false", ["OLD1"]),
        ("is_merchandise=false", ["POST"]),
        ("search=tea", ["OLD1", "TEA1", "TEA2"]),
    ],
)
def test_filters(personas, catalogue, api_as, query, expected):
    response = api_as(personas["staff"]).get(f"/api/products/?{query}")

    assert response.status_code == 200
    assert skus(response) == expected


def test_filter_by_category(personas, catalogue, api_as):
    response = api_as(personas["staff"]).get(f"/api/products/?category={catalogue['food'].pk}")

    assert skus(response) == ["BIS1"]


def test_staff_creates_a_product(personas, catalogue, api_as):
    payload = {"sku": "COF1", "name": "Coffee", "category_id": catalogue["food"].pk, "list_price": "4.50"}

    response = api_as(personas["staff"]).post("/api/products/", payload)

    assert response.status_code == 201
    assert response.json()["category"] == {"id": catalogue["food"].pk, "name": "Food"}
    product = Product.objects.get(sku="COF1")
    assert (product.name, product.category, product.list_price) == ("Coffee", catalogue["food"], Decimal("4.50"))


@pytest.mark.parametrize("role", ["buyer", "marketer", "supplier_partner", "channel_partner"])
def test_only_staff_writes(personas, catalogue, api_as, role):
    client = api_as(personas[role])

    created = client.post("/api/products/", {"sku": "COF1", "name": "Coffee"})
    updated = client.patch(f"/api/products/{catalogue['TEA1'].pk}/", {"name": "Renamed"})

    assert (created.status_code, updated.status_code) == (403, 403)
    assert not Product.objects.filter(sku="COF1").exists()
    assert Product.objects.get(sku="TEA1").name == "Green tea"


def test_create_with_duplicate_sku_and_negative_price_is_400(personas, catalogue, api_as):
    response = api_as(personas["staff"]).post("/api/products/", {"sku": "TEA1", "name": "Copy", "list_price": "-1"})

    assert response.status_code == 400
    assert response.json() == {
        "sku": ["product with this SKU already exists."],
        "list_price": ["Ensure this value is greater than or equal to 0."],
    }
    assert Product.objects.count() == 5


def test_staff_updates_and_deactivates(personas, catalogue, api_as):
    response = api_as(personas["staff"]).patch(f"/api/products/{catalogue['TEA1'].pk}/", {"active": False})

    assert response.status_code == 200
    assert Product.objects.get(sku="TEA1").active is False


def test_products_are_never_deleted(personas, catalogue, api_as):
    response = api_as(personas["staff"]).delete(f"/api/products/{catalogue['TEA1'].pk}/")

    assert response.status_code == 405
    assert Product.objects.filter(sku="TEA1").exists()


@pytest.mark.parametrize("rows", [3, 30])
def test_product_list_query_count_is_constant(personas, api_as, django_assert_num_queries, rows):
    # Given products in distinct categories (a lazy category read would cost one query per row)
    factories.ProductFactory.create_batch(rows)
    client = api_as(personas["buyer"])

    # token + user, roles, count, page
    with django_assert_num_queries(4):
        response = client.get("/api/products/")

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_supplier_partner_product_list_query_count_is_constant(personas, api_as, django_assert_num_queries, rows):
    supplier = personas["supplier_partner"].supplier_partner.supplier
    for product in factories.ProductFactory.create_batch(rows):
        factories.SupplierProductFactory(supplier=supplier, product=product)
    client = api_as(personas["supplier_partner"])

    # token + user, roles, channel link, count, page
    with django_assert_num_queries(5):
        response = client.get("/api/products/")

    assert response.json()["count"] == rows


# --- categories


def test_every_role_reads_categories_filtered_by_parent(personas, catalogue, api_as):
    response = api_as(personas["channel_partner"]).get(f"/api/categories/?parent={catalogue['food'].pk}")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": catalogue["tea"].pk, "code": "tea", "name": "Tea", "parent": catalogue["food"].pk}
    ]


def test_outsider_cannot_read_categories(personas, catalogue, api_as):
    assert api_as(personas["outsider"]).get("/api/categories/").status_code == 403


def test_staff_creates_a_category_and_a_buyer_cannot(personas, catalogue, api_as):
    payload = {"code": "coffee", "name": "Coffee", "parent": catalogue["food"].pk}

    refused = api_as(personas["buyer"]).post("/api/categories/", payload)
    created = api_as(personas["staff"]).post("/api/categories/", payload)

    assert refused.status_code == 403
    assert created.status_code == 201
    assert Category.objects.get(code="coffee").parent == catalogue["food"]


def test_a_category_cannot_move_below_its_descendant(personas, catalogue, api_as):
    response = api_as(personas["staff"]).patch(
        f"/api/categories/{catalogue['food'].pk}/", {"parent": catalogue["tea"].pk}
    )

    assert response.status_code == 400
    assert response.json() == {"parent": ["A category cannot sit below itself or one of its descendants."]}
    assert Category.objects.get(code="food").parent is None
