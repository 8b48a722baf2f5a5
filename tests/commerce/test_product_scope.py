"""product_scope_sql: the SQL form of products_visible_to, for reads folded into one query."""

import pytest
from django.db import connection

from retailai.commerce.models import Product
from retailai.commerce.selectors import product_scope_sql, products_visible_to
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "persona", ["buyer", "marketer", "staff", "channel_partner", "supplier_partner", "outsider", None]
)
def test_the_sql_scope_sees_exactly_the_products_the_queryset_sees(personas, persona):
    from django.contrib.auth.models import AnonymousUser

    # Given active and inactive merchandise, a non-merchandise code, and one product the supplier partner supplies
    shown = factories.ProductFactory(sku="SHOWN")
    factories.ProductFactory(sku="GONE", active=False)
    factories.ProductFactory(sku="POST", is_merchandise=False)
    factories.SupplierProductFactory(supplier=personas["supplier_partner"].supplier_partner.supplier, product=shown)
    user = personas[persona] if persona else AnonymousUser()
    # When the products are read through the SQL condition
    scope, params = product_scope_sql(user, "q")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT q.sku FROM {Product._meta.db_table} q WHERE {scope}", params)
        got = {row[0] for row in cursor.fetchall()}
    # Then they are exactly the products the queryset lets the user read
    assert got == set(products_visible_to(user).values_list("sku", flat=True))
    expected = {
        "buyer": {"SHOWN", "GONE", "POST"},
        "marketer": {"SHOWN", "GONE", "POST"},
        "staff": {"SHOWN", "GONE", "POST"},
        "channel_partner": {"SHOWN"},
        "supplier_partner": {"SHOWN"},
        "outsider": set(),
        None: set(),
    }
    assert got == expected[persona]
