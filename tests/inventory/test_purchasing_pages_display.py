"""What the buyer reads on the purchase-order pages: the projected stock falls with the expected demand and rises
on the delivery date, money and quantities are grouped with the currency, empty states fit the filter, and the
what-if page says which location and settings it simulates."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.test import Client
from django.utils import translation

from inventory import views
from inventory.models import PurchaseOrder, StockLevel
from inventory.templatetags.inventory_format import money, qty
from retailai.core.models import AuditEvent
from tests.inventory.conftest import AS_OF, active_forecast

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def captured_chart(monkeypatch):
    """The lines and markers the order page hands to the chart of one product's stock, by label (the chart of
    the whole order's unserved demand is left out)."""
    seen = {}

    def fake_time_chart(lines, bands=(), **kwargs):
        labels = {str(line.label): line.points for line in lines}
        if "Without this order" in labels:
            seen["lines"] = labels
            seen["markers"] = list(kwargs.get("markers", []))
        return ""

    monkeypatch.setattr(views, "time_chart", fake_time_chart)
    return seen


def test_projection_falls_with_the_expected_demand_of_an_intermittent_product(
    personas, assortment, suggest, captured_chart
):
    """TEA sells on some days only: its median forecast is 0 every day, its 90th percentile 8. The projection uses
    the expected demand (2.5 a day) that the line's "forecast over the cover" adds up, not the zero median."""
    p = assortment["products"]
    active_forecast({p["TEA"]: (0.0, 0.0, 8.0), p["MUG"]: 4.0, p["JAM"]: 6.0, p["SALT"]: 1.0})
    StockLevel.objects.filter(product=p["TEA"]).update(on_hand=40, on_order=0, reserved=0)
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    tea = po.lines.get(product__sku="TEA")
    assert tea.quantity > 0

    client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/?line={tea.pk}")

    without = [v for _, v in captured_chart["lines"]["Without this order"]]
    assert without[0] == 40
    assert without[7] < without[0] - 10  # stock falls, about 2.5 a day
    daily = views.purchasing.expected_period_demand(
        views.purchasing.planning_forecasts(
            run=assortment["run"].__class__.objects.get(is_active=True, freq="D"),
            product_ids=[p["TEA"].pk],
            location_code=assortment["location"].code,
            start=AS_OF,
        )[p["TEA"].pk]
    )
    cover = tea.explanation["cover_periods"]
    assert float(daily[:cover].sum()) == pytest.approx(tea.explanation["forecast_cover_demand"], rel=0.05)


def _tea_chart(personas, assortment, suggest, captured_chart):
    """With TEA out of stock, the suggested order's TEA line, its "with this order" points and its delivery marker."""
    StockLevel.objects.filter(product=assortment["products"]["TEA"]).update(on_hand=0, on_order=0, reserved=0)
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    tea = po.lines.get(product__sku="TEA")

    client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/?line={tea.pk}")

    (delivery, _label) = captured_chart["markers"][0]
    return tea, dict(captured_chart["lines"]["With this order"]), delivery


def test_the_delivery_shows_from_its_own_date(personas, assortment, suggest, captured_chart):
    tea, points, delivery = _tea_chart(personas, assortment, suggest, captured_chart)

    assert delivery == tea.purchase_order.expected_delivery == AS_OF + timedelta(days=7)
    # Nothing on the shelf the day before; the whole order on its day; a day's sales (10) fewer the day after.
    assert points[delivery - timedelta(days=1)] == 0
    assert points[delivery] == tea.quantity
    assert points[delivery + timedelta(days=1)] == pytest.approx(tea.quantity - 10)


def test_the_delivery_is_a_step_up_at_its_marker(personas, assortment, suggest):
    """Stock is drawn in steps: the line with the order rises straight up where the delivery marker stands, not
    along a slope over the day after it."""
    StockLevel.objects.filter(product=assortment["products"]["TEA"]).update(on_hand=0, on_order=0, reserved=0)
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    tea = po.lines.get(product__sku="TEA")

    page = client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/?line={tea.pk}").content.decode()
    html = re.search(r'<section [^>]*id="chart">(.*?)</section>', page, re.S).group(1)  # the product's chart

    marker = float(re.search(r'<line class="chart-marker" x1="([\d.]+)%"', html).group(1)) * 10  # to 0–1000
    points = re.search(r'<polyline class="chart-line with-order" points="([^"]*)"', html).group(1).split()
    xy = [tuple(float(v) for v in p.split(",")) for p in points]
    rises = [xa for (xa, ya), (xb, yb) in pairwise(xy) if xa == xb and yb < ya]  # y grows downwards
    slopes = [xa for (xa, ya), (xb, yb) in pairwise(xy) if xa != xb and ya != yb]
    assert rises == [pytest.approx(marker, abs=0.1)]
    assert slopes == []


def test_a_delivery_past_the_forecast_horizon_still_shows(personas, assortment, suggest, captured_chart):
    # A 5-day forecast of 10 a day and TEA's 7-day lead time: the delivery lies two days past the horizon.
    p = assortment["products"]
    active_forecast({p["TEA"]: 10.0, p["JAM"]: 6.0}, horizon=5)

    tea, points, delivery = _tea_chart(personas, assortment, suggest, captured_chart)

    assert delivery == AS_OF + timedelta(days=7)
    assert max(points) == delivery + timedelta(days=7)  # a week past the delivery
    # The order arrives on its day and then sells 10 a day, the repeated last days of the forecast.
    assert points[delivery + timedelta(days=1)] == pytest.approx(tea.quantity - 10)
    assert points[delivery + timedelta(days=2)] == pytest.approx(tea.quantity - 20)


def test_order_page_groups_money_and_links_skus_to_the_chart(personas, assortment, suggest, settings):
    settings.RETAILAI_CURRENCY = "GBP"
    settings.PO_SECOND_APPROVAL_VALUE = 5000
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    PurchaseOrder.objects.filter(pk=po.pk).update(total_value=Decimal("2510903.18"), total_quantity=2060740)
    AuditEvent.objects.all().delete()
    line = po.lines.first()

    html = client_for(personas["buyer"]).get(f"/purchase-orders/{po.pk}/").content.decode()

    assert "£2,510,903.18" in html and "2,060,740" in html
    assert "2510903.18" not in html
    assert f"£{line.unit_cost:.2f}" in html
    assert 'id="chart"' in html and f'href="?line={line.pk}#chart"' in html
    assert "Nothing has happened to this order yet." in html


def test_inbox_groups_money_and_names_the_approval_threshold_in_the_currency(personas, assortment, suggest, settings):
    settings.RETAILAI_CURRENCY = "GBP"
    settings.PO_SECOND_APPROVAL_VALUE = 5000
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    PurchaseOrder.objects.filter(pk=po.pk).update(total_value=Decimal("2510903.18"), total_quantity=2060740)

    html = client_for(personas["buyer"]).get("/purchase-orders/").content.decode()

    assert "£2,510,903.18" in html and "2,060,740" in html
    assert "Orders above £5,000 need a second approver" in html


def test_chinese_pages_group_thousands_with_a_comma(settings):
    """Django's Simplified Chinese format has no thousands separator; the project's groups by three with a comma."""
    settings.RETAILAI_CURRENCY = "CNY"
    with translation.override("zh-hans"):
        assert money(Decimal("12345678.5")) == "¥12,345,678.50"
        assert money(Decimal("-1234.5"), 0) == "-¥1,234"
        assert qty(12345678) == "12,345,678"
        assert qty(999) == "999"


def test_chinese_inbox_groups_money_and_quantities(personas, assortment, suggest, settings, zh_catalogue):
    settings.RETAILAI_CURRENCY = "CNY"
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    PurchaseOrder.objects.filter(pk=po.pk).update(total_value=Decimal("12345678.00"), total_quantity=2060740)

    html = client_for(personas["buyer"]).get("/purchase-orders/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<html lang="zh-hans"' in html
    assert "¥12,345,678.00" in html and "2,060,740" in html
    assert "12345678" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Nothing waiting for a decision."),
        ({"status": "sent"}, "No purchase orders in this status."),
        ({"status": "all"}, "No purchase orders yet."),
    ],
)
def test_inbox_empty_message_fits_the_filter(personas, assortment, query, message):
    html = client_for(personas["buyer"]).get("/purchase-orders/", query).content.decode()

    assert message in html
    if query:
        assert "Nothing waiting for a decision." not in html


def test_what_if_names_the_location_it_simulates_and_plans_as_the_order_line(personas, assortment, suggest):
    terms = assortment["terms"]["TEA"]
    terms.lead_time_std_days = Decimal("1.5")
    terms.save()
    suggest()
    line = PurchaseOrder.objects.get(supplier=assortment["own"]).lines.get(product__sku="TEA")
    assert line.explanation["lead_time_days"] == 9  # 7 days quoted + 2 for late deliveries

    response = client_for(personas["buyer"]).get("/purchase-orders/what-if/TEA/")

    html = response.content.decode()
    assert f'<option value="{assortment["location"].pk}" selected>Warehouse</option>' in html
    assert "---------" not in html
    current = response.context["current"]
    assert current.lead_time_days == line.explanation["lead_time_days"]
    assert current.service_level == line.explanation["service_level"]
    assert current.order_up_to == line.explanation["order_up_to"]
    assert "the supplier's 7 days plus 2 for late deliveries" in html


def test_what_if_names_the_field_it_could_not_use(personas, assortment, suggest):
    suggest()

    response = client_for(personas["buyer"]).get(
        "/purchase-orders/what-if/TEA/", {"service_level": "1.5", "lead_time_days": "14"}
    )

    html = response.content.decode()
    assert 'class="field-error"' in html and "less than or equal to 0.999" in html
    assert "Not simulated as entered: Service level (fill rate)." in html
    # The valid field is still used; the bad one falls back to the current setting, as the page says.
    trial, current = response.context["trial"], response.context["current"]
    assert trial.lead_time_days == 14 and trial.service_level == current.service_level


def test_what_if_says_there_is_no_safety_stock_when_the_calibration_plans_below_the_median(
    personas, assortment, suggest
):
    from forecasting.models import ForecastRun
    from inventory.models import PolicyCalibration

    products = assortment["products"]
    active_forecast({products["TEA"]: (4.0, 10.0, 16.0), products["MUG"]: 4.0, products["JAM"]: 6.0})
    suggest()
    run = ForecastRun.objects.get(is_active=True)
    # The run's calibration found its quantiles far wider than the demand that came (as the replay would).
    PolicyCalibration.objects.update_or_create(
        run=run,
        location=assortment["location"],
        defaults={
            "status": "calibrated",
            "planning_fills": {"0.9": 0.15, "0.95": 0.2, "0.98": 0.25},
            "replay_fills": {"0.9": 0.9, "0.95": 0.95, "0.98": 0.98},
        },
    )

    response = client_for(personas["buyer"]).get("/purchase-orders/what-if/TEA/", {"service_level": "0.95"})

    html = response.content.decode()
    trial = response.context["trial"]
    assert trial.planning_fill == pytest.approx(0.2)
    assert trial.safety_stock < 0  # a planning fill this low reads the quantiles below the expected demand
    cell = re.search(r'data-metric="safety-trial">(.*?)</td>', html, re.S).group(1)
    gap = f"{-trial.safety_stock:.0f}"
    assert f'None <span class="muted">(-{gap})</span>' in cell
    assert f"sits {gap} below the expected demand over the cover" in cell and "read at fill 0.200" in cell
