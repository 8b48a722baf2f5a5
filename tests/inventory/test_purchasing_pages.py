"""The buyer's purchase-order pages: inbox by urgency, the order page with explanations and projected stock,
decisions from the page, the what-if page, and a buyer approving in headless Chromium."""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise

import pytest
from django.test import Client

from inventory import purchasing
from inventory.models import PurchaseOrder, StockLevel, Supplier
from retailai.core.models import AuditEvent
from tests.browser_support import browser_test
from tests.inventory.conftest import AS_OF


@pytest.fixture
def orders(assortment, suggest):
    suggest()
    return {
        "own": PurchaseOrder.objects.get(supplier=assortment["own"]),
        "other": PurchaseOrder.objects.get(supplier=assortment["other"]),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["outsider", "marketer", "supplier_partner"])
def test_pages_are_for_buyers_and_staff(personas, orders, persona):
    client = client_for(personas[persona])
    assert client.get("/purchase-orders/").status_code == 403
    assert client.get(f"/purchase-orders/{orders['own'].pk}/").status_code == 403
    assert client.post(f"/purchase-orders/{orders['own'].pk}/approve/").status_code == 403
    assert client.get("/purchase-orders/what-if/TEA/").status_code == 403
    assert PurchaseOrder.objects.filter(status="draft").count() == 2


@pytest.mark.django_db
def test_inbox_lists_the_most_urgent_first_and_shows_in_the_menu(personas, orders):
    response = client_for(personas["buyer"]).get("/purchase-orders/")

    assert response.status_code == 200
    html = response.content.decode()
    # MUG has 2.5 days of cover against 7 days' lead time (−4.5); JAM 0 against 3 (−3.0): MUG's order first.
    assert html.index(orders["own"].number) < html.index(orders["other"].number)
    assert 'data-nav="purchase-orders"' in html
    # Whole days without a needless decimal.
    assert "short by 4.5 d" in html and "short by 3 d" in html and "short by 3.0 d" not in html


@pytest.mark.django_db
def test_order_page_shows_lines_explanations_and_the_projection(personas, orders):
    po = orders["own"]
    tea = po.lines.get(product__sku="TEA")

    response = client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/?line={tea.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Projected stock of TEA" in html
    product_chart = re.search(r'<section [^>]*id="chart">(.*?)</section>', html, re.S).group(1)
    assert product_chart.count("<polyline") == 2  # with and without the order
    assert "On hand 30, on order 20, reserved 5" in html
    assert "Days of cover 4.5 → 14.0" in html
    assert 'id="approve-button"' in html


@pytest.mark.django_db
def test_decisions_from_the_page(personas, orders, assortment):
    client = client_for(personas["buyer"])
    po = orders["other"]
    jam = po.lines.get()

    # A large change without a reason is refused with a message; nothing changes.
    response = client.post(f"/purchase-orders/{po.pk}/lines/{jam.pk}/", {"quantity": "200"}, follow=True)
    assert "give a reason" in response.content.decode()
    jam.refresh_from_db()
    assert jam.quantity == 60
    response = client.post(f"/purchase-orders/{po.pk}/reject/", {"reason": ""}, follow=True)
    assert "needs a reason" in response.content.decode()
    assert PurchaseOrder.objects.get(pk=po.pk).status == "draft"

    client.post(f"/purchase-orders/{po.pk}/lines/{jam.pk}/", {"quantity": "72"})
    jam.refresh_from_db()
    assert jam.quantity == 72

    response = client.post(f"/purchase-orders/{po.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert PurchaseOrder.objects.get(pk=po.pk).status == "approved"
    assert StockLevel.objects.get(product=jam.product, location=po.location).on_order == 72

    client.post(f"/purchase-orders/{po.pk}/send/")
    client.post(f"/purchase-orders/{po.pk}/receive/", {f"receive-{jam.pk}": "70", "reference": "DN-3"})
    stock = StockLevel.objects.get(product=jam.product, location=po.location)
    assert (stock.on_hand, stock.on_order) == (70, 2)
    assert PurchaseOrder.objects.get(pk=po.pk).status == "partially_received"


@pytest.mark.django_db
def test_bulk_approve_from_the_inbox(personas, orders, settings):
    settings.PO_SECOND_APPROVAL_VALUE = 200
    client = client_for(personas["buyer"])

    response = client.post(
        "/purchase-orders/bulk-approve/", {"ids": [orders["own"].pk, orders["other"].pk]}, follow=True
    )

    html = response.content.decode()
    assert f"Approved: {orders['other'].number}." in html
    assert f"Waiting for a second approver: {orders['own'].number}." in html
    assert PurchaseOrder.objects.get(pk=orders["own"].pk).status == "second_approval"
    assert AuditEvent.objects.filter(verb__startswith="purchase_order.approve").count() == 2


@pytest.mark.django_db
def test_what_if_page_simulates_another_service_level(personas, orders, assortment):
    response = client_for(personas["buyer"]).get(
        "/purchase-orders/what-if/TEA/",
        {"location": assortment["location"].pk, "service_level": "0.6", "lead_time_days": "14"},
    )

    assert response.status_code == 200
    current, trial = response.context["current"], response.context["trial"]
    assert (current.service_level, current.lead_time_days) == (0.98, 7)
    assert (trial.service_level, trial.lead_time_days) == (0.6, 14)
    # Exact demand of 10 a day, replayed on the forecast median: levels cover it, so no stock-outs either way.
    assert current.order_up_to == 140 and trial.order_up_to == 210  # TEA's terms have no lead-time deviation
    assert current.fill_rate == trial.fill_rate == 1.0
    assert trial.average_on_hand > current.average_on_hand
    assert response.context["basis"] == "forecast"
    html = response.content.decode()
    assert "Simulated fill rate" in html
    # Stock is drawn in steps (a delivery is a rise, not a ramp); demand stays a line.
    for key in ("on-hand-current", "on-hand-what-if"):
        points = re.search(rf'<polyline class="chart-line {key}[^"]*" points="([^"]*)"', html).group(1).split()
        xy = [tuple(float(v) for v in p.split(",")) for p in points]
        assert [a for a, b in pairwise(xy) if a[0] != b[0] and a[1] != b[1]] == []
        assert any(a[0] == b[0] and a[1] != b[1] for a, b in pairwise(xy))


def test_what_if_replays_days_out_of_stock_at_the_demand_of_the_weeks_before(personas, orders, assortment):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from inventory.services import stock_count_set
    from tests import factories

    tea, wh = assortment["products"]["TEA"], assortment["location"]
    # Ten a day for 60 days up to the forecast's history end (3 March), but none from 20 to 26 February: the
    # shelf was empty (counted 0 on the evening of the 19th, 50 arrived on the 27th in the morning).
    channel = factories.ChannelFactory(code="shop")
    for d in range(60):
        day = AS_OF - timedelta(days=60 - d)
        if date_in(day, (AS_OF - timedelta(days=13), AS_OF - timedelta(days=7))):
            continue
        at = timezone.make_aware(datetime.combine(day, time(12)))
        order = factories.OrderFactory(channel=channel, customer=None, placed_at=at)
        factories.OrderLineFactory(order=order, line_number=1, product=tea, quantity=10, placed_at=at)
    StockLevel.objects.filter(product=tea, location=wh).update(on_hand=0)
    for counted, day, hour in ((0, AS_OF - timedelta(days=14), 21), (50, AS_OF - timedelta(days=6), 8)):
        when = timezone.make_aware(datetime.combine(day, time(hour)))
        stock_count_set(product=tea, location=wh, counted=counted, at=when)

    response = client_for(personas["buyer"]).get("/purchase-orders/what-if/TEA/", {"location": wh.pk})

    assert response.context["basis"] == "history" and response.context["estimated_periods"] == 7
    replayed = response.context["replayed_demand"]
    assert len(replayed) == 60 and (replayed == 10).all()  # not seven days of zero demand
    assert "7 of them were out of stock" in response.content.decode()


def date_in(day, bounds) -> bool:
    return bounds[0] <= day <= bounds[1]


@pytest.mark.django_db
def test_what_if_rejects_bad_input(personas, orders):
    response = client_for(personas["buyer"]).get("/purchase-orders/what-if/TEA/", {"service_level": "1.5"})
    assert response.status_code == 200
    assert response.context["trial"].service_level == response.context["current"].service_level


@browser_test
@pytest.mark.django_db(transaction=True)
def test_buyer_approves_in_the_browser(ui, personas, assortment):
    purchasing.replenishment_suggest(location=assortment["location"], as_of=AS_OF)
    po = PurchaseOrder.objects.get(supplier=assortment["own"])

    ui.login("buyer")
    ui.find('nav.mainnav a[data-nav="purchase-orders"]').click()
    ui.wait_for("table.data tbody tr[data-po]")
    rows = ui.find_all("table.data tbody tr[data-po]")
    assert rows[0].get_attribute("data-po") == str(po.pk)  # the most urgent first
    ui.shot("purchase-order-inbox")

    rows[0].find_element(ui.by.CSS_SELECTOR, "td.code a").click()
    chart = ui.wait_for("svg.chart")
    assert chart.size["width"] > 600
    ui.driver.execute_script("document.getElementById('chart').scrollIntoView()")
    ui.shot("purchase-order-chart")
    ui.driver.execute_script("window.scrollTo(0, 0)")
    assert "Forecast over the cover" in ui.driver.page_source
    ui.find("#approve-button").click()
    ui.wait_for("ul.messages")
    assert ui.find("#po-status").text == "Approved"
    ui.shot("purchase-order-approved")

    assert PurchaseOrder.objects.get(pk=po.pk).status == "approved"
    # TEA had 20 on order already; the approved 95 come on top.
    assert (
        StockLevel.objects.get(product=assortment["products"]["TEA"], location=assortment["location"]).on_order == 115
    )


@browser_test
@pytest.mark.django_db(transaction=True)
def test_what_if_page_draws_stock_in_steps_in_the_browser(ui, personas, orders, assortment):
    ui.login("buyer")
    ui.open(f"/purchase-orders/what-if/TEA/?location={assortment['location'].pk}&service_level=0.6&lead_time_days=14")
    chart = ui.wait_for("svg.chart")
    assert len(ui.find_all("svg.chart polyline.on-hand-what-if")) == 1
    ui.driver.execute_script("arguments[0].scrollIntoView()", chart)
    ui.shot("what-if")


@pytest.mark.django_db
def test_order_page_explains_pack_rounding_instead_of_a_negative_safety_stock(personas, orders):
    """MUG comes in packs of 12: averaged over where whole packs leave the position, the order-up-to level sits
    below the cover demand, and the page says the packs cover the fill rate rather than showing a negative stock."""
    po = orders["own"]
    mug = po.lines.get(product__sku="MUG")
    assert mug.explanation["safety_stock"] < 0

    html = client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/").content.decode()

    assert "No safety stock: whole packs of 12 already reach fill rate" in html
    assert "Safety stock -" not in html


@browser_test
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1024, 1440])
def test_the_whole_inbox_table_fits_the_window(ui, personas, assortment, width):
    """The inbox at a laptop's 1024 px and a desktop's 1440 px: every column, Status the last, inside its box."""
    purchasing.replenishment_suggest(location=assortment["location"], as_of=AS_OF)
    # The widest cells a real inbox shows: millions in value and units, the longest status with its "auto" badge.
    PurchaseOrder.objects.filter(supplier=assortment["own"]).update(
        status="second_approval", is_auto_approved=True, total_value=Decimal("2510903.18"), total_quantity=2060740
    )
    Supplier.objects.filter(pk=assortment["other"].pk).update(name="Jams and Preserves of the North Ltd")
    with ui.viewport(width):
        ui.login("buyer")
        ui.open("/purchase-orders/?status=all")
        ui.wait_for("table.data tbody tr[data-po]")
        ui.shot(f"purchase-order-inbox-{width}")
        overflow = ui.table_overflow("#bulk-approve table")
    assert overflow[0] <= 0 and overflow[1] <= 0, overflow
