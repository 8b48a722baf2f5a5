"""What a whole purchase order prevents: lost sales of its lines before it arrives, and after with and without it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.test import Client

from inventory.engine.projection import order_projection, unserved_demand, window_totals
from inventory.models import PurchaseOrder, PurchaseOrderLine
from tests import factories

# ------------------------------------------------------------------------------------------------------ engine


def test_lost_sales_by_hand():
    # 5 on the shelf, 2 a day, 4 arriving on day 3: served 2, 2, 1 (1 lost), then 4 in: 2, 2, then 2 lost.
    unserved = unserved_demand(np.array([5.0]), np.array([2.0]), np.array([[0, 0, 0, 4, 0, 0]]))

    assert unserved.tolist() == [[0, 0, 1, 0, 0, 2]]


def test_the_order_arrives_on_its_day_and_orders_past_the_horizon_never_do():
    p = order_projection(
        stock=np.array([0.0, 10.0]),
        daily=np.array([1.0, 1.0]),
        on_order=np.array([0.0, 0.0]),
        on_order_day=np.array([0, 0]),
        quantity=np.array([5.0, 5.0]),
        delivery_day=np.array([2, 9]),
        days=6,
    )

    assert p.unserved_without.sum(axis=1).tolist() == [6.0, 0.0]
    assert p.unserved_with.tolist()[0] == [1, 1, 0, 0, 0, 0]
    assert p.unserved_with.tolist()[1] == [0] * 6


def test_window_totals_count_lines_short_by_a_unit_and_value_what_they_miss():
    unserved = np.array([[0.0, 0.6, 0.6, 5.0], [2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0]])

    # Days 1 and 2 only: line 0 misses 1.2 (short), line 1 nothing, line 2 half a unit (not short).
    short, value = window_totals(unserved, np.array([1, 1, 1]), np.array([3, 3, 3]), np.array([10.0, 1.0, 2.0]))

    assert short == 1
    assert value == pytest.approx(1.2 * 10 + 0.5 * 2)


# -------------------------------------------------------------------------------------------------------- page


def explanation(on_hand: float, daily: float, lead: int, on_order: float = 0) -> dict:
    return {"on_hand": on_hand, "reserved": 0, "on_order": on_order, "daily_demand": daily, "lead_time_days": lead,
            "review_period_days": 7, "days_of_cover_before": (on_hand + on_order) / daily, "service_level": 0.95,
            "abc_xyz": "AX"}  # fmt: skip


@pytest.mark.django_db
def test_the_order_page_says_what_the_order_prevents(personas):
    """Two lines, delivery in 10 days, reviewed weekly:

    - TEA: 4 on hand, 1 a day, 20 ordered: 6 short before the order arrives; without it 7 more short in the
      week after, with it none. List price 3.
    - JAM: 100 on hand: never short. No list price: valued at its unit cost.
    - SALT has no forecast and is left out.
    """
    day = date(2024, 3, 4)
    po = PurchaseOrder.objects.create(
        number="PO-P1", supplier=factories.SupplierFactory(code="s1"), location=factories.LocationFactory(code="w1"),
        generated_for=day, expected_delivery=day + timedelta(days=10),
    )  # fmt: skip
    for sku, price, snap, qty in (
        ("TEA", Decimal("3"), explanation(4, 1.0, 10), 20),
        ("JAM", None, explanation(100, 2.0, 10), 0),
        ("SALT", None, {}, 1),
    ):
        PurchaseOrderLine.objects.create(
            purchase_order=po, product=factories.ProductFactory(sku=sku, list_price=price), quantity=qty,
            suggested_quantity=qty, unit_cost=Decimal("1.50"), explanation=snap,
        )  # fmt: skip
    client = Client()
    client.force_login(personas["buyer"])

    html = client.get(f"/purchase-orders/{po.pk}/").content.decode()

    def figure(name: str) -> list[str]:
        row = re.search(rf'<tr data-figure="{name}">(.*?)</tr>', html, re.S).group(1)
        return re.findall(r'<td class="num">([^<]*)</td>', row)

    assert figure("before") == ["1 of 2", "£18"]
    assert figure("without") == ["1 of 2", "£21"]
    assert figure("with") == ["0 of 2", "£0"]
    assert "1 line without a forecast is left out." in html
    section = re.search(r'<section [^>]*id="order-projection">(.*?)</section>', html, re.S).group(1)
    assert "<svg" in section and "unserved-without" in section and "unserved-with" in section


@pytest.mark.django_db
def test_an_order_without_forecast_snapshots_has_no_projection(personas):
    po = PurchaseOrder.objects.create(
        number="PO-P2", supplier=factories.SupplierFactory(code="s2"), location=factories.LocationFactory(code="w2")
    )
    PurchaseOrderLine.objects.create(
        purchase_order=po, product=factories.ProductFactory(sku="X"), quantity=1, unit_cost=Decimal("1")
    )
    client = Client()
    client.force_login(personas["buyer"])

    html = client.get(f"/purchase-orders/{po.pk}/").content.decode()

    assert "What this order prevents" not in html


def _two_lead_order(personas, **po_fields):
    """TEA (lead 3) and JAM (lead 10), each 1 a day with nothing in stock, 20 ordered; suggested for `day`."""
    day = date(2024, 3, 4)
    po = PurchaseOrder.objects.create(
        number="PO-P3", supplier=factories.SupplierFactory(code="s3"), location=factories.LocationFactory(code="w3"),
        generated_for=day, expected_delivery=day + timedelta(days=10), **po_fields,
    )  # fmt: skip
    for sku, lead in (("TEA", 3), ("JAM", 10)):
        PurchaseOrderLine.objects.create(
            purchase_order=po, product=factories.ProductFactory(sku=sku, list_price=Decimal("1")), quantity=20,
            suggested_quantity=20, unit_cost=Decimal("1"), explanation=explanation(0, 1.0, lead),
        )  # fmt: skip
    client = Client()
    client.force_login(personas["buyer"])
    return client.get(f"/purchase-orders/{po.pk}/").content.decode()


def _figures(html: str) -> dict[str, list[str]]:
    rows = dict(re.findall(r'<tr data-figure="(\w+)">(.*?)</tr>', html, re.S))
    return {k: re.findall(r'<td class="num">([^<]*)</td>', v) for k, v in rows.items()}


@pytest.mark.django_db
def test_before_a_ship_notice_each_line_arrives_on_its_own_lead_time(personas):
    html = _two_lead_order(personas)

    # TEA misses 3 days before its delivery, JAM 10; the order's expected delivery (day 10) is JAM's.
    assert _figures(html)["before"] == ["2 of 2", "£13"]
    section = re.search(r'<section [^>]*id="order-projection">(.*?)</section>', html, re.S).group(1)
    assert "first delivery" in section and "last delivery" in section


@pytest.mark.django_db
def test_a_ship_notice_date_is_when_every_line_arrives(personas):
    from django.utils import timezone

    html = _two_lead_order(personas, shipped_at=timezone.now(), status="sent")

    # Both lines now wait for day 10: 10 + 10 units missed before it.
    assert _figures(html)["before"] == ["2 of 2", "£20"]


def test_a_line_arrives_its_lead_time_after_the_order_is_sent_until_a_ship_notice_says_otherwise():
    from datetime import datetime

    from django.utils import timezone

    from inventory.selectors import line_arrival_day as _arrival_day

    day = date(2024, 3, 4)
    sent = timezone.make_aware(datetime(2024, 3, 8, 10))
    draft = PurchaseOrder(generated_for=day, expected_delivery=day + timedelta(days=30))

    assert _arrival_day(draft, 6.5, day) == day + timedelta(days=7)  # whole days, rounded up
    assert _arrival_day(draft, 6, day, period=7) == day + timedelta(days=7)  # whole weeks
    assert _arrival_day(PurchaseOrder(sent_at=sent), 6, day) == date(2024, 3, 14)
    noticed = PurchaseOrder(sent_at=sent, shipped_at=sent, expected_delivery=date(2024, 3, 20))
    assert _arrival_day(noticed, 6, day) == date(2024, 3, 20)
