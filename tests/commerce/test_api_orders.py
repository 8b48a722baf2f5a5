"""The orders API: scoping per role and channel, idempotent posting, cancellation, query counts."""

import datetime as dt
from decimal import Decimal

import pytest

from retailai.commerce import services
from retailai.commerce.choices import LineKind, OrderStatus
from retailai.commerce.models import Customer, Order, OrderLine
from retailai.core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

PLACED_AT = "2025-03-01T10:00:00Z"


@pytest.fixture
def shop(personas, web_channel):
    """Given products, a second channel, and one order on each channel."""
    store = factories.ChannelFactory(code="store", name="Stores")
    tea = factories.ProductFactory(sku="TEA1", name="Green tea")
    mug = factories.ProductFactory(sku="MUG1", name="Mug")
    customer = factories.CustomerFactory(external_id="C1")
    at = dt.datetime(2025, 2, 1, 9, 30, tzinfo=dt.UTC)
    web_order = factories.OrderFactory(channel=web_channel, external_id="W-1", customer=customer, placed_at=at)
    factories.OrderLineFactory(order=web_order, line_number=1, product=tea, quantity=2, unit_price=Decimal("2.95"))
    factories.OrderLineFactory(
        order=web_order, line_number=2, product=mug, quantity=1, unit_price=Decimal("6.00"),
        discount_amount=Decimal("1.00"),
    )  # fmt: skip
    store_order = factories.OrderFactory(
        channel=store, external_id="S-1", customer=None, placed_at=at + dt.timedelta(days=1)
    )
    factories.OrderLineFactory(order=store_order, line_number=1, product=tea, quantity=1)
    return {"web": web_channel, "store": store, "web_order": web_order, "store_order": store_order}


def order_payload(**overrides) -> dict:
    payload = {
        "external_id": "W-2",
        "placed_at": PLACED_AT,
        "customer_external_id": "C-NEW",
        "country": "United Kingdom",
        "currency": "GBP",
        "lines": [
            {"sku": "TEA1", "quantity": 3, "unit_price": "2.95"},
            {"sku": "MUG1", "quantity": 1, "unit_price": "6.00", "discount_amount": "0.50", "kind": "return"},
        ],
    }
    payload.update(overrides)
    return payload


def written() -> tuple[int, int, int, int]:
    return Order.objects.count(), OrderLine.objects.count(), Customer.objects.count(), AuditEvent.objects.count()


# --- reading


def test_anonymous_gets_401(shop, api_as):
    assert api_as(None).get("/api/orders/").status_code == 401


@pytest.mark.parametrize("persona", ["supplier_partner", "outsider"])
def test_supplier_partners_and_outsiders_get_403_not_an_empty_list(personas, shop, api_as, persona):
    client = api_as(personas[persona])

    assert client.get("/api/orders/").status_code == 403
    assert client.get(f"/api/orders/{shop['web_order'].pk}/").status_code == 403


@pytest.mark.parametrize("role", ["buyer", "marketer", "staff"])
def test_internal_roles_read_every_order_newest_first(personas, shop, api_as, role):
    response = api_as(personas[role]).get("/api/orders/")

    assert response.status_code == 200
    assert [(o["channel"], o["external_id"]) for o in response.json()["results"]] == [("store", "S-1"), ("web", "W-1")]


def test_channel_partner_reads_only_its_channel(personas, shop, api_as):
    client = api_as(personas["channel_partner"])

    listing = client.get("/api/orders/")
    other = client.get(f"/api/orders/{shop['store_order'].pk}/")

    assert [o["external_id"] for o in listing.json()["results"]] == ["W-1"]
    assert other.status_code == 404


def test_detail_nests_the_lines(personas, shop, api_as):
    order = shop["web_order"]

    response = api_as(personas["channel_partner"]).get(f"/api/orders/{order.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": order.pk,
        "channel": "web",
        "external_id": "W-1",
        "customer": "C1",
        "is_guest": False,
        "kind": "sale",
        "status": "placed",
        "placed_at": "2025-02-01T09:30:00Z",
        "country": "",
        "currency": "GBP",
        "created_at": body["created_at"],
        "lines": [
            {
                "line_number": 1, "sku": "TEA1", "kind": "sale", "quantity": 2, "unit_price": "2.9500",
                "discount_amount": "0.0000", "net_amount": "5.9000",
            },
            {
                "line_number": 2, "sku": "MUG1", "kind": "sale", "quantity": 1, "unit_price": "6.0000",
                "discount_amount": "1.0000", "net_amount": "5.0000",
            },
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=store", ["S-1"]),
        ("customer=C1", ["W-1"]),
        ("placed_after=2025-02-02T00:00:00Z", ["S-1"]),
        ("status=cancelled", []),
        ("search=W-", ["W-1"]),
    ],
)
def test_filters(personas, shop, api_as, query, expected):
    response = api_as(personas["buyer"]).get(f"/api/orders/?{query}")

    assert [o["external_id"] for o in response.json()["results"]] == expected


@pytest.mark.parametrize("rows", [3, 30])
def test_order_list_query_count_is_constant(personas, web_channel, api_as, django_assert_num_queries, rows):
    # Given orders with two lines each, every one with its own customer and products
    for order in factories.OrderFactory.create_batch(rows, channel=web_channel):
        factories.OrderLineFactory.create_batch(2, order=order)
    client = api_as(personas["buyer"])

    # token + user, roles, count, orders with channel and customer, lines with products
    with django_assert_num_queries(5):
        response = client.get("/api/orders/")

    assert response.json()["count"] == rows
    assert len(response.json()["results"][0]["lines"]) == 2


@pytest.mark.parametrize("rows", [3, 30])
def test_channel_partner_order_list_query_count_is_constant(
    personas, web_channel, api_as, django_assert_num_queries, rows
):
    for order in factories.OrderFactory.create_batch(rows, channel=web_channel):
        factories.OrderLineFactory.create_batch(2, order=order)
    client = api_as(personas["channel_partner"])

    # token + user, roles, channel link, channel, count, orders, lines
    with django_assert_num_queries(7):
        response = client.get("/api/orders/")

    assert response.json()["count"] == rows


# --- posting


def test_channel_partner_posts_an_order_for_its_own_channel(personas, shop, api_as):
    response = api_as(personas["channel_partner"]).post("/api/orders/", order_payload())

    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["external_id"], body["customer"], body["status"]) == ("web", "W-2", "C-NEW", "placed")
    assert [(line["line_number"], line["sku"], line["kind"], line["net_amount"]) for line in body["lines"]] == [
        (1, "TEA1", "sale", "8.8500"),
        (2, "MUG1", "return", "5.5000"),
    ]
    order = Order.objects.get(channel=shop["web"], external_id="W-2")
    assert order.placed_at == dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
    customer = Customer.objects.get(external_id="C-NEW")
    assert (customer.country, customer.first_seen) == ("United Kingdom", order.placed_at)
    lines = list(order.lines.values_list("product__sku", "quantity", "unit_price", "discount_amount", "customer"))
    assert lines == [
        ("TEA1", 3, Decimal("2.9500"), Decimal("0.0000"), customer.pk),
        ("MUG1", 1, Decimal("6.0000"), Decimal("0.5000"), customer.pk),
    ]
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor, event.object_id) == ("order.create", personas["channel_partner"], str(order.pk))


def test_channel_partner_may_name_its_own_channel(personas, shop, api_as):
    response = api_as(personas["channel_partner"]).post("/api/orders/", order_payload(channel="web"))

    assert response.status_code == 201
    assert response.json()["channel"] == "web"


def test_channel_partner_naming_another_channel_gets_403_and_nothing_is_written(personas, shop, api_as):
    before = written()

    response = api_as(personas["channel_partner"]).post("/api/orders/", order_payload(channel="store"))

    assert response.status_code == 403
    assert response.json()["channel"] == ["You may only post orders for your own channel, not store."]
    assert written() == before


def test_guest_order_has_no_customer(personas, shop, api_as):
    payload = order_payload()
    del payload["customer_external_id"]

    response = api_as(personas["channel_partner"]).post("/api/orders/", payload)

    assert response.status_code == 201
    assert (response.json()["customer"], response.json()["is_guest"]) == (None, True)
    assert Order.objects.get(external_id="W-2").customer is None


def test_existing_customer_is_reused(personas, shop, api_as):
    response = api_as(personas["channel_partner"]).post("/api/orders/", order_payload(customer_external_id="C1"))

    assert response.status_code == 201
    assert Customer.objects.count() == 1


def test_staff_posts_for_any_channel_but_must_name_it(personas, shop, api_as):
    client = api_as(personas["staff"])
    before = written()

    missing = client.post("/api/orders/", order_payload())
    after_missing = written()
    created = client.post("/api/orders/", order_payload(channel="store"))

    assert missing.status_code == 400
    assert missing.json()["channel"] == ["This field is required."]
    assert after_missing == before
    assert created.status_code == 201
    assert Order.objects.get(external_id="W-2").channel == shop["store"]


def test_staff_naming_an_unknown_channel_gets_400(personas, shop, api_as):
    response = api_as(personas["staff"]).post("/api/orders/", order_payload(channel="nowhere"))

    assert response.status_code == 400
    assert response.json() == {"channel": ["Object with code=nowhere does not exist."]}


@pytest.mark.parametrize("persona", ["buyer", "marketer", "supplier_partner", "outsider"])
def test_others_may_not_post(personas, shop, api_as, persona):
    before = written()

    response = api_as(personas[persona]).post("/api/orders/", order_payload(channel="web"))

    assert response.status_code == 403
    assert written() == before


def test_unknown_sku_is_400_with_the_field_path_and_nothing_is_written(personas, shop, api_as):
    before = written()
    payload = order_payload(
        lines=[{"sku": "TEA1", "quantity": 1, "unit_price": "1"}, {"sku": "X", "quantity": 1, "unit_price": "1"}]
    )

    response = api_as(personas["channel_partner"]).post("/api/orders/", payload)

    assert response.status_code == 400
    assert response.json() == {"lines": {"1": {"sku": ["Unknown SKU 'X'."]}}}
    assert written() == before


def test_single_unknown_sku(personas, shop, api_as):
    payload = order_payload(lines=[{"sku": "X", "quantity": 1, "unit_price": "1"}])

    response = api_as(personas["channel_partner"]).post("/api/orders/", payload)

    assert response.json() == {"lines": {"0": {"sku": ["Unknown SKU 'X'."]}}}


def test_bad_line_values_are_400_per_field(personas, shop, api_as):
    before = written()
    payload = order_payload(
        lines=[{"sku": "TEA1", "quantity": 0, "unit_price": "-1", "discount_amount": "-0.5", "kind": "adjustment"}]
    )

    response = api_as(personas["channel_partner"]).post("/api/orders/", payload)

    assert response.status_code == 400
    assert response.json() == {
        "lines": {
            "0": {
                "quantity": ["Ensure this value is greater than or equal to 1."],
                "unit_price": ["Ensure this value is greater than or equal to 0."],
                "discount_amount": ["Ensure this value is greater than or equal to 0."],
                "kind": ['"adjustment" is not a valid choice.'],
            }
        }
    }
    assert written() == before


def test_missing_fields_and_empty_lines_are_400(personas, shop, api_as):
    response = api_as(personas["channel_partner"]).post("/api/orders/", {"lines": []})

    assert response.status_code == 400
    assert response.json() == {
        "external_id": ["This field is required."],
        "placed_at": ["This field is required."],
        "lines": {"non_field_errors": ["This list may not be empty."]},
    }
    assert Order.objects.count() == 2


def test_retried_post_with_the_same_content_returns_the_order_and_writes_nothing(personas, shop, api_as):
    client = api_as(personas["channel_partner"])
    first = client.post("/api/orders/", order_payload())
    before = written()

    # the retry spells the same values differently
    retry = client.post(
        "/api/orders/",
        order_payload(
            placed_at="2025-03-01T10:00:00+00:00",
            lines=[
                {"sku": "TEA1", "quantity": 3, "unit_price": "2.9500", "discount_amount": "0", "kind": "sale"},
                {"sku": "MUG1", "quantity": 1, "unit_price": "6", "discount_amount": "0.50", "kind": "return"},
            ],
        ),
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert written() == before


def test_retried_post_with_different_content_is_409(personas, shop, api_as):
    client = api_as(personas["channel_partner"])
    client.post("/api/orders/", order_payload())
    before = written()

    response = client.post("/api/orders/", order_payload(lines=[{"sku": "TEA1", "quantity": 4, "unit_price": "2.95"}]))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Order W-2 was already received from channel web with different content.",
        "code": "conflict",
        "external_id": ["Order W-2 was already received from channel web with different content."],
    }
    assert written() == before
    assert list(OrderLine.objects.filter(order__external_id="W-2").values_list("quantity", flat=True)) == [3, 1]


def test_same_external_id_on_another_channel_is_a_new_order(personas, shop, api_as):
    response = api_as(personas["channel_partner"]).post("/api/orders/", order_payload(external_id="S-1"))

    assert response.status_code == 201
    assert Order.objects.filter(external_id="S-1").count() == 2


def test_a_concurrent_identical_post_rereads_the_winner(personas, shop, monkeypatch):
    # Given the same order already committed by a concurrent request that this one's first read missed
    lines = [services.OrderLineInput(sku="TEA1", quantity=2, unit_price=Decimal("2.95"), discount_amount=Decimal(0))]
    placed_at = dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    kwargs = {
        "channel": shop["web"], "external_id": "W-9", "placed_at": placed_at, "customer_external_id": "C-RACE",
        "lines": lines, "actor": personas["channel_partner"],
    }  # fmt: skip
    winner = services.order_create(**kwargs)
    before = written()
    real_read = services._order_by_external_id
    reads = []

    def first_read_misses(**read_kwargs):
        reads.append(read_kwargs)
        return None if len(reads) == 1 else real_read(**read_kwargs)

    monkeypatch.setattr(services, "_order_by_external_id", first_read_misses)

    # When this request's insert hits the unique constraint
    result = services.order_create(**kwargs)

    # Then it answers with the winner's order and writes nothing of its own
    assert (result.order.pk, result.created) == (winner.order.pk, False)
    assert len(reads) == 2
    assert written() == before


def test_service_refuses_an_unknown_sku_and_a_bad_quantity(personas, shop):
    from retailai.core.errors import ValidationFailed

    base = {
        "channel": shop["web"], "external_id": "W-8", "placed_at": dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        "customer_external_id": None, "actor": None,
    }  # fmt: skip

    with pytest.raises(ValidationFailed, match="Unknown SKU 'NOPE'."):
        services.order_create(lines=[services.OrderLineInput("NOPE", 1, Decimal(1))], **base)
    with pytest.raises(ValidationFailed, match="Quantity of TEA1 must be greater than 0."):
        services.order_create(lines=[services.OrderLineInput("TEA1", 0, Decimal(1), kind=LineKind.SALE)], **base)
    assert not Order.objects.filter(external_id="W-8").exists()


# --- cancelling


def test_staff_cancels_a_placed_order_once(personas, shop, api_as):
    client = api_as(personas["staff"])
    order = shop["store_order"]

    first = client.post(f"/api/orders/{order.pk}/cancel/")
    second = client.post(f"/api/orders/{order.pk}/cancel/")

    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert second.status_code == 409
    assert second.json()["detail"] == "Order S-1 is cancelled, not placed; it cannot be cancelled."
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor, event.before, event.after) == (
        "order.cancel", personas["staff"], {"status": "placed"}, {"status": "cancelled"},
    )  # fmt: skip


def test_channel_partner_cancels_its_own_order_but_not_another_channels(personas, shop, api_as):
    client = api_as(personas["channel_partner"])

    own = client.post(f"/api/orders/{shop['web_order'].pk}/cancel/")
    other = client.post(f"/api/orders/{shop['store_order'].pk}/cancel/")

    assert (own.status_code, other.status_code) == (200, 404)
    assert Order.objects.get(pk=shop["web_order"].pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=shop["store_order"].pk).status == OrderStatus.PLACED


@pytest.mark.parametrize("persona", ["buyer", "marketer", "supplier_partner", "outsider"])
def test_others_may_not_cancel(personas, shop, api_as, persona):
    response = api_as(personas[persona]).post(f"/api/orders/{shop['web_order'].pk}/cancel/")

    assert response.status_code == 403
    assert Order.objects.get(pk=shop["web_order"].pk).status == OrderStatus.PLACED
    assert AuditEvent.objects.count() == 0


def test_a_fulfilled_order_cannot_be_cancelled(personas, shop, api_as):
    Order.objects.filter(pk=shop["web_order"].pk).update(status=OrderStatus.FULFILLED)

    response = api_as(personas["staff"]).post(f"/api/orders/{shop['web_order'].pk}/cancel/")

    assert response.status_code == 409
    assert Order.objects.get(pk=shop["web_order"].pk).status == OrderStatus.FULFILLED
    assert AuditEvent.objects.count() == 0


def test_orders_cannot_be_edited_or_deleted(personas, shop, api_as):
    client = api_as(personas["staff"])
    url = f"/api/orders/{shop['web_order'].pk}/"

    assert (client.patch(url, {"country": "X"}).status_code, client.delete(url).status_code) == (405, 405)
