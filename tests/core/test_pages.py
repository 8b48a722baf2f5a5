"""Back-office pages: who may open what, what the home page shows, list filters, admin rules."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from retailai.core.models import AuditEvent, JobRun
from tests import factories

HOME, ORDERS, STOCK = "/", "/orders/", "/stock/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Home panels cache their totals briefly; every test starts from the database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page_as(client):
    """page_as(user, url, **kwargs) → the response of a GET as that user (None: anonymous)."""

    def get(user, url, **kwargs):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client.get(url, **kwargs)

    return get


ACCESS = [
    # (url, persona, expected status)
    (HOME, "buyer", 200),
    (HOME, "marketer", 200),
    (HOME, "staff", 200),
    (HOME, "supplier_partner", 200),
    (HOME, "channel_partner", 200),
    (HOME, "outsider", 200),
    (ORDERS, "buyer", 200),
    (ORDERS, "marketer", 200),
    (ORDERS, "staff", 200),
    (ORDERS, "supplier_partner", 403),
    (ORDERS, "channel_partner", 403),
    (ORDERS, "outsider", 403),
    (STOCK, "buyer", 200),
    (STOCK, "marketer", 403),
    (STOCK, "staff", 200),
    (STOCK, "supplier_partner", 403),
    (STOCK, "channel_partner", 403),
    (STOCK, "outsider", 403),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "persona", "status"), ACCESS)
def test_page_access_by_role(personas, page_as, url, persona, status):
    response = page_as(personas[persona], url)

    assert response.status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize("url", [HOME, ORDERS, STOCK])
def test_anonymous_is_sent_to_login(page_as, url):
    response = page_as(None, url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_refusal_renders_the_friendly_403_page(personas, page_as):
    response = page_as(personas["outsider"], STOCK)

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert b"This page is not part of your role" in response.content


@pytest.mark.django_db
def test_unknown_address_renders_the_404_page(personas, page_as):
    response = page_as(personas["buyer"], "/no-such-page/")

    assert response.status_code == 404
    assert b"We could not find that page" in response.content


@pytest.mark.django_db
def test_login_page_renders(page_as):
    response = page_as(None, reverse("login"))

    assert response.status_code == 200
    assert b"Sign in to RetailAI" in response.content


def _panel_keys(response) -> list[str]:
    return [p["key"] for p in response.context["panels"]]


def _nav_keys(response) -> list[str]:
    return [i["key"] for i in response.context["nav_items"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "panels", "no_panels", "nav", "no_nav"),
    [
        ("buyer", {"order-history", "stock"}, set(), {"orders", "stock"}, {"admin", "api-docs"}),
        ("marketer", {"order-history"}, {"stock"}, {"orders"}, {"stock", "admin", "api-docs"}),
        ("staff", {"order-history", "stock"}, set(), {"orders", "stock", "admin", "api-docs"}, set()),
    ],
)
def test_home_shows_the_roles_panels_and_menu(personas, page_as, persona, panels, no_panels, nav, no_nav):
    # Other apps add their own entries for these roles; only this app's entries are pinned here.
    response = page_as(personas[persona], HOME)

    assert panels <= set(_panel_keys(response))
    assert not no_panels & set(_panel_keys(response))
    assert nav <= set(_nav_keys(response))
    assert not no_nav & set(_nav_keys(response))
    for key in panels:
        assert f'data-panel="{key}"'.encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["supplier_partner", "channel_partner", "outsider"])
def test_home_has_no_internal_panels_or_menu_for_outsiders_and_partners(personas, page_as, persona):
    response = page_as(personas[persona], HOME)

    assert not {"order-history", "stock"} & set(_panel_keys(response))
    assert not {"orders", "stock", "admin", "api-docs"} & set(_nav_keys(response))


@pytest.mark.django_db
def test_home_panels_count_orders_and_stock(personas, page_as, web_channel):
    order = factories.OrderFactory(channel=web_channel)
    factories.OrderLineFactory(order=order)
    factories.OrderLineFactory(order=order)
    store = factories.LocationFactory(code="store-1")
    factories.StockLevelFactory(location=store, on_hand=4)
    factories.StockLevelFactory(location=store, on_hand=0)

    response = page_as(personas["buyer"], HOME)

    panels = {p["key"]: {str(k): v for k, v in p["rows"]} for p in response.context["panels"]}
    assert panels["order-history"]["Orders"] == "1"
    assert panels["order-history"]["Order lines"] == "2"
    assert panels["order-history"]["Customers"] == "1"
    assert panels["stock"] == {"Locations": "1", "SKUs with stock": "1", "SKUs out of stock": "1"}


@pytest.mark.django_db
def test_home_lists_recent_job_runs_for_internal_roles(personas, page_as):
    JobRun.objects.create(kind="forecast.train", status="running", progress=40)

    buyer_page = page_as(personas["buyer"], HOME)
    outsider_page = page_as(personas["outsider"], HOME)

    assert [r.kind for r in buyer_page.context["recent_runs"]] == ["forecast.train"]
    assert b'aria-valuenow="40"' in buyer_page.content
    assert outsider_page.context["recent_runs"] == []
    assert b"Your account has no role yet" in outsider_page.content


@pytest.mark.django_db
def test_order_list_filters(personas, page_as, web_channel):
    store = factories.ChannelFactory(code="stores", name="Stores")
    factories.OrderFactory(channel=web_channel, external_id="W100", status="placed")
    factories.OrderFactory(channel=web_channel, external_id="W200", status="fulfilled")
    factories.OrderFactory(channel=store, external_id="S100", status="placed")

    def ids(**params):
        response = page_as(personas["buyer"], ORDERS, data=params)
        return sorted(o.external_id for o in response.context["page"])

    assert ids() == ["S100", "W100", "W200"]
    assert ids(channel=store.pk) == ["S100"]
    assert ids(status="placed") == ["S100", "W100"]
    assert ids(q="w2") == ["W200"]
    assert ids(placed_from="2000-01-01", placed_to="2000-01-02") == []


@pytest.mark.django_db
def test_order_list_pages_keep_the_filters(personas, page_as, web_channel):
    for n in range(51):
        factories.OrderFactory(channel=web_channel, external_id=f"W{n:03d}")

    response = page_as(personas["buyer"], ORDERS, data={"channel": web_channel.pk})

    assert response.context["page"].paginator.count == 51
    assert f'href="?channel={web_channel.pk}&amp;page=2"'.encode() in response.content


@pytest.mark.django_db
def test_stock_list_filters(personas, page_as):
    north, south = factories.LocationFactory(code="north"), factories.LocationFactory(code="south")
    factories.StockLevelFactory(product__sku="AB-1", location=north, on_hand=5)
    factories.StockLevelFactory(product__sku="AB-2", location=south, on_hand=0)
    factories.StockLevelFactory(product__sku="CD-1", location=south, on_hand=3)

    def skus(**params):
        response = page_as(personas["buyer"], STOCK, data=params)
        return [row.level.product.sku for row in response.context["page"]]

    assert skus() == ["AB-1", "AB-2", "CD-1"]
    assert skus(location=south.pk) == ["AB-2", "CD-1"]
    assert skus(out_of_stock="on") == ["AB-2"]
    assert skus(q="ab") == ["AB-1", "AB-2"]


@pytest.mark.django_db
def test_home_in_simplified_chinese(personas, page_as, zh_catalogue):
    response = page_as(personas["buyer"], HOME, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert "库存".encode() in response.content
    assert "订单".encode() in response.content


# --- Admin -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_job_run_list_shows_progress_and_status(personas, client):
    JobRun.objects.create(kind="import.orders", status="running", progress=65)
    client.force_login(personas["staff"])

    response = client.get(reverse("admin:core_jobrun_changelist"))

    assert response.status_code == 200
    assert b"RetailAI back office" in response.content
    assert b'class="progress-fill progress-running" style="width: 65%"' in response.content
    assert b'class="badge badge-running"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["core_jobrun", "core_auditevent", "inventory_stockmovement"])
def test_admin_ledgers_cannot_be_added(personas, client, model):
    client.force_login(personas["staff"])

    response = client.get(reverse(f"admin:{model}_add"))

    assert response.status_code == 403


@pytest.mark.django_db
def test_admin_every_changelist_opens(personas, client):
    client.force_login(personas["staff"])
    names = [
        "core_jobrun",
        "core_auditevent",
        "commerce_category",
        "commerce_product",
        "commerce_channel",
        "commerce_customer",
        "commerce_order",
        "commerce_orderline",
        "commerce_channelpartner",
        "inventory_location",
        "inventory_stocklevel",
        "inventory_stockmovement",
        "inventory_supplier",
        "inventory_supplierproduct",
        "inventory_supplierpartner",
    ]
    factories.OrderLineFactory()
    factories.StockLevelFactory()

    statuses = {name: client.get(reverse(f"admin:{name}_changelist")).status_code for name in names}

    assert statuses == dict.fromkeys(names, 200)


@pytest.mark.django_db
def test_admin_stock_level_on_hand_is_read_only(personas, client):
    level = factories.StockLevelFactory(on_hand=7)
    client.force_login(personas["staff"])
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])

    response = client.post(url, {"on_hand": 99, "on_order": 0, "reserved": 0})

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.on_hand == 7
    assert StockMovement.objects.count() == 0


@pytest.mark.django_db
def test_admin_adjust_stock_writes_the_ledger(personas, client):
    level = factories.StockLevelFactory(on_hand=7)
    client.force_login(personas["staff"])
    url = reverse("admin:inventory_stocklevel_adjust", args=[level.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"apply": "1", "quantity": "-2", "reason": "Damaged in transit"})

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.on_hand == 5
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.quantity, movement.on_hand_after, movement.note) == (
        "adjustment",
        -2,
        5,
        "Damaged in transit",
    )
    assert movement.actor == personas["staff"]
    assert AuditEvent.objects.filter(verb="stock.adjust").count() == 1


@pytest.mark.django_db
def test_admin_adjust_action_refuses_going_below_zero_and_writes_nothing(personas, client):
    a = factories.StockLevelFactory(on_hand=5)
    b = factories.StockLevelFactory(on_hand=1)
    client.force_login(personas["staff"])

    response = client.post(
        reverse("admin:inventory_stocklevel_changelist"),
        {"action": "adjust_stock", "_selected_action": [a.pk, b.pk], "apply": "1", "quantity": "-3", "reason": "Loss"},
    )

    assert response.status_code == 200
    assert b"Not enough stock" in response.content
    assert sorted(StockLevel.objects.values_list("on_hand", flat=True)) == [1, 5]
    assert StockMovement.objects.count() == 0


@pytest.mark.django_db
def test_admin_adjust_needs_change_permission(personas, client):
    level = factories.StockLevelFactory(on_hand=7)
    buyer = personas["buyer"]
    buyer.is_staff = True
    buyer.save()
    client.force_login(buyer)

    response = client.post(
        reverse("admin:inventory_stocklevel_adjust", args=[level.pk]), {"apply": "1", "quantity": "1", "reason": "x"}
    )

    assert response.status_code == 403
    assert StockMovement.objects.count() == 0


@pytest.mark.django_db
def test_admin_order_lines_are_read_only_on_a_stored_order(personas, client):
    line = factories.OrderLineFactory(quantity=3)
    client.force_login(personas["staff"])

    response = client.get(reverse("admin:commerce_order_change", args=[line.order.pk]))

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0]
    assert formset.has_change_permission is False
    assert formset.has_add_permission is False
