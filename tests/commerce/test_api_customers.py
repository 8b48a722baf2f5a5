"""The customers API: Staff only, filters, query count."""

import datetime as dt

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(personas):
    """Given three customers in two countries."""
    first_seen = dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC)
    return [
        factories.CustomerFactory(external_id="C100", country="United Kingdom", region="London", first_seen=first_seen),
        factories.CustomerFactory(external_id="C200", country="France"),
        factories.CustomerFactory(external_id="C201", country="United Kingdom"),
    ]


def ids(response) -> list[str]:
    return [row["external_id"] for row in response.json()["results"]]


def test_anonymous_gets_401(customers, api_as):
    assert api_as(None).get("/api/customers/").status_code == 401


@pytest.mark.parametrize("persona", ["buyer", "marketer", "supplier_partner", "channel_partner", "outsider"])
def test_everyone_but_staff_gets_403(personas, customers, api_as, persona):
    client = api_as(personas[persona])

    assert client.get("/api/customers/").status_code == 403
    assert client.get(f"/api/customers/{customers[0].pk}/").status_code == 403


def test_staff_lists_and_reads_customers(personas, customers, api_as):
    client = api_as(personas["staff"])

    listing = client.get("/api/customers/")
    detail = client.get(f"/api/customers/{customers[0].pk}/")

    assert ids(listing) == ["C100", "C200", "C201"]
    body = detail.json()
    assert body == {
        "id": customers[0].pk,
        "external_id": "C100",
        "country": "United Kingdom",
        "region": "London",
        "first_seen": "2024-12-01T08:00:00Z",
        "attributes": {},
        "created_at": body["created_at"],
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [("country=united%20kingdom", ["C100", "C201"]), ("search=C20", ["C200", "C201"]), ("country=Spain", [])],
)
def test_filters(personas, customers, api_as, query, expected):
    response = api_as(personas["staff"]).get(f"/api/customers/?{query}")

    assert ids(response) == expected


def test_customers_are_read_only(personas, customers, api_as):
    response = api_as(personas["staff"]).post("/api/customers/", {"external_id": "C999"})

    assert response.status_code == 405


@pytest.mark.parametrize("rows", [3, 30])
def test_customer_list_query_count_is_constant(personas, api_as, django_assert_num_queries, rows):
    factories.CustomerFactory.create_batch(rows)
    client = api_as(personas["staff"])

    # token + user, roles, count, page
    with django_assert_num_queries(4):
        response = client.get("/api/customers/")

    assert response.json()["count"] == rows
