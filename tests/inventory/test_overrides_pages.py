"""The overrides page: how often and how much buyers changed the suggestions, by supplier and approver, and
whether the changes helped once their cover had passed; for buyers and staff only, in headless Chromium too."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import PurchaseOrder, PurchaseOrderLine, Supplier
from tests import factories
from tests.browser_support import browser_test


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _at(days_ago: int, hour: int = 10):
    return timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(hour)))


def _order(number, *, supplier, location, approved_days_ago, lines, approver=None, status="approved", auto=False):
    po = PurchaseOrder.objects.create(
        number=number, supplier=supplier, location=location, status=status, approved_by=approver,
        is_auto_approved=auto, approved_at=None if approved_days_ago is None else _at(approved_days_ago),
    )  # fmt: skip
    for product, suggested, approved, cost, snap in lines:
        PurchaseOrderLine.objects.create(
            purchase_order=po, product=product, suggested_quantity=suggested, quantity=approved,
            unit_cost=Decimal(cost), explanation=snap,
        )  # fmt: skip
    return po


def _snap(days_ago: int, cover: int = 14, safety: float = 20.0, position: float = 45.0) -> dict:
    start = timezone.localdate() - timedelta(days=days_ago)
    return {
        "cover_periods": cover, "period_days": 1, "forecast_cover_demand": 140.0, "safety_stock": safety,
        "inventory_position": position, "lead_time_days": 7, "forecast_start": start.isoformat(),
    }  # fmt: skip


@pytest.fixture
def approvals(personas, assortment):
    """Teas Ltd: TEA raised 100 → 150 (£1.20) and MUG left at 48, approved by the buyer 40 days ago; TEA then sold
    12 a day over its 14-day cover. Jams Ltd: JAM cut 60 → 0 (£2.00) by staff 10 days ago (cover still running),
    SALT auto-approved. Left out: an approval 200 days ago, a draft and a cancelled order."""
    p, wh = assortment["products"], assortment["location"]
    teas, jams = assortment["own"], assortment["other"]
    Supplier.objects.filter(pk=teas.pk).update(name="Teas Ltd")
    buyer = personas["buyer"]
    buyer.first_name, buyer.last_name = "Ann", "Buyer"
    buyer.save()
    _order("PO-1", supplier=teas, location=wh, approved_days_ago=40, approver=buyer, status="received",
           lines=[(p["TEA"], 100, 150, "1.20", _snap(40)), (p["MUG"], 48, 48, "2.50", _snap(40))])  # fmt: skip
    _order("PO-2", supplier=jams, location=wh, approved_days_ago=10, approver=personas["staff"],
           lines=[(p["JAM"], 60, 0, "2.00", _snap(10))])  # fmt: skip
    _order("PO-3", supplier=jams, location=wh, approved_days_ago=5, auto=True,
           lines=[(p["SALT"], 10, 10, "1.00", _snap(5))])  # fmt: skip
    _order("PO-4", supplier=jams, location=wh, approved_days_ago=200, approver=buyer,
           lines=[(p["JAM"], 60, 600, "2.00", _snap(200))])  # fmt: skip
    _order("PO-5", supplier=teas, location=wh, approved_days_ago=None, status="draft",
           lines=[(p["TEA"], 100, 500, "1.20", {})])  # fmt: skip
    _order("PO-6", supplier=teas, location=wh, approved_days_ago=3, approver=buyer, status="cancelled",
           lines=[(p["TEA"], 100, 900, "1.20", _snap(3))])  # fmt: skip
    channel = factories.ChannelFactory(code="shop")
    # 12 a day over TEA's cover (40 to 27 days ago); the 100 sold the day after it do not count.
    for days_ago, quantity in [*((d, 12) for d in range(27, 41)), (26, 100)]:
        order = factories.OrderFactory(channel=channel, customer=None, placed_at=_at(days_ago, 12))
        factories.OrderLineFactory(order=order, line_number=1, product=p["TEA"], quantity=quantity)
    return assortment


@pytest.mark.django_db
def test_buyer_sees_the_overrides_of_the_last_90_days(personas, approvals):
    response = client_for(personas["buyer"]).get("/purchase-orders/overrides/")

    assert response.status_code == 200
    totals, hindsight = response.context["totals"], response.context["hindsight"]
    assert (totals.lines, totals.auto_lines, totals.changed) == (3, 1, 2)
    assert (totals.units_added, totals.units_removed, totals.value_change) == (50, 60, 50 * 1.2 - 60 * 2.0)
    html = response.content.decode()
    assert "67%" in html and "+50 / −60" in html and "-£60.00" in html
    assert "Plus 1 auto-approved line, left out of the figures." in html
    # Largest value change first: Jams Ltd took £120 away, Teas Ltd added £60.
    assert [r["name"] for r in response.context["by_supplier"]] == ["Jams Ltd", "Teas Ltd"]
    assert [r["name"] for r in response.context["by_approver"]] == ["staff", "Ann Buyer"]
    teas = response.context["by_supplier"][1]
    assert (teas["lines"], teas["changed"], teas["median_change_pct"], teas["net_units"]) == (2, 1, 50.0, 50.0)
    # TEA: 168 sold over its cover + 20 safety stock - 45 in position = 143 was right; 150 is closer than 100.
    assert (hindsight.helped, hindsight.hurt, hindsight.neutral, hindsight.too_recent) == (1, 0, 0, 1)
    assert (hindsight.suggested_error, hindsight.approved_error) == (43, 7)
    assert "1 change helped" in html and "1 changed line is too recent to judge" in html
    assert html.count('<rect class="chart-bar suggested"') == 2


@pytest.mark.django_db
def test_a_cover_that_ran_out_of_stock_is_not_judged(personas, approvals):
    from inventory.services import stock_count_set

    # TEA's shelf was counted empty on the evening 36 days ago and refilled 32 days ago: 35 to 33 days ago had no
    # stock all day, inside its cover (40 to 27 days ago). What it sold is then not what was wanted.
    tea, wh = approvals["products"]["TEA"], approvals["location"]
    stock_count_set(product=tea, location=wh, counted=0, at=_at(36, 20))
    stock_count_set(product=tea, location=wh, counted=50, at=_at(32, 9))

    response = client_for(personas["buyer"]).get("/purchase-orders/overrides/")

    hindsight = response.context["hindsight"]
    assert (hindsight.helped, hindsight.hurt, hindsight.stocked_out, hindsight.too_recent) == (0, 0, 1, 1)
    html = response.content.decode()
    assert "1 changed line ran out of stock during its cover" in html
    assert "No changed line can be judged yet." in html


@pytest.mark.django_db
def test_filters_narrow_the_period_and_the_supplier(personas, approvals):
    client = client_for(personas["buyer"])

    month = client.get("/purchase-orders/overrides/", {"period": "30"}).context["totals"]
    jams = client.get("/purchase-orders/overrides/", {"supplier": approvals["other"].pk}).context["totals"]
    year = client.get("/purchase-orders/overrides/", {"period": "365"}).context["totals"]

    assert (month.lines, month.changed) == (1, 1)
    assert (jams.lines, jams.auto_lines, jams.value_change) == (1, 1, -120)
    assert (year.lines, year.units_added) == (4, 50 + 540)


@pytest.mark.django_db
def test_the_inbox_links_to_the_page(personas, approvals):
    html = client_for(personas["buyer"]).get("/purchase-orders/").content.decode()
    assert 'href="/purchase-orders/overrides/"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["outsider", "marketer", "supplier_partner", "channel_partner"])
def test_the_page_is_for_buyers_and_staff(personas, approvals, persona):
    assert client_for(personas[persona]).get("/purchase-orders/overrides/").status_code == 403
    assert Client().get("/purchase-orders/overrides/").status_code == 302  # to the login page


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"period": "7"}, {"supplier": "x"}, {"location": "999999"}])
def test_a_bad_filter_is_named_and_left_out(personas, approvals, query):
    response = client_for(personas["buyer"]).get("/purchase-orders/overrides/", query)

    assert response.status_code == 200
    assert "Some filters were not understood and are left out" in response.content.decode()
    assert response.context["days"] == 90 and response.context["totals"].lines == 3


@pytest.mark.django_db
def test_no_approvals_in_the_period_says_so_instead_of_an_empty_table(personas, assortment):
    response = client_for(personas["staff"]).get("/purchase-orders/overrides/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "No approved lines in the last 90 days." in html
    assert "<table" not in html and "Did the changes help?" not in html


@pytest.mark.django_db
def test_the_page_speaks_chinese(personas, approvals, zh_catalogue):
    client = client_for(personas["buyer"])
    client.cookies["django_language"] = "zh-hans"

    html = client.get("/purchase-orders/overrides/", headers={"accept-language": "zh-hans"}).content.decode()

    assert "人工调整分析" in html and "这些修改有帮助吗" in html


@browser_test
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1024, 1440])
def test_the_overrides_page_in_the_browser(ui, personas, approvals, width):
    with ui.viewport(width, 1400):
        ui.login("buyer")
        ui.open("/purchase-orders/")
        ui.find("#overrides-link").click()
        ui.wait_for("#hindsight")
        ui.shot(f"purchase-order-overrides-{width}")
        overflow = ui.driver.execute_script(
            "return Array.from(document.querySelectorAll('.table-wrap')).map(w => w.scrollWidth - w.clientWidth);"
        )
        chart = ui.find("#overrides-chart svg.chart").size
    assert overflow and max(overflow) <= 0, overflow
    assert chart["width"] > 300
    assert ui.find('[data-verdict="helped"]').text == "1 change helped"
