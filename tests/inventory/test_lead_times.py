"""Lead times as suppliers keep them: measured from sent orders and their receipts, shown to buyers, and planned
with once a supplier has delivered often enough."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone

from inventory import purchasing
from inventory.engine.leadtimes import delivery_events, planning_lead_time, supplier_lead_times
from inventory.models import PurchaseOrder, PurchaseOrderLine, StockLevel, StockMovement
from inventory.selectors import supplier_lead_time_report, with_measured_lead_times
from tests import factories
from tests.inventory.conftest import AS_OF

# ------------------------------------------------------------------------------------------------------ engine


def lines(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["supplier_id", "purchase_order_id", "product_id", "sent", "received",
                                       "promised_days"])  # fmt: skip


def test_the_lines_of_one_delivery_count_once_and_a_split_shipment_twice():
    d = date(2024, 1, 1)
    events = delivery_events(
        lines(
            (1, 10, 100, d, d + timedelta(days=9), 6),  # order 10: two lines on one truck, 9 days
            (1, 10, 101, d, d + timedelta(days=9), 8),
            (1, 11, 100, d, d + timedelta(days=5), 6),  # order 11 in two parts: day 5, then day 12
            (1, 11, 101, d, d + timedelta(days=12), 6),
        )
    )

    assert events["actual_days"].tolist() == [9.0, 5.0, 12.0]
    assert events["promised_days"].tolist() == [7.0, 6.0, 6.0]
    assert events["late_days"].tolist() == [2.0, -1.0, 6.0]


def test_supplier_statistics_by_hand():
    events = pd.DataFrame(
        {"supplier_id": [1, 1, 1, 2], "purchase_order_id": [1, 2, 3, 4], "received": [0, 0, 0, 0],
         "actual_days": [8.0, 9.0, 13.0, 5.0], "promised_days": [6.0, 6.0, 6.0, 5.0],
         "late_days": [2.0, 3.0, 7.0, 0.0]}
    )  # fmt: skip

    report = supplier_lead_times(events, min_deliveries=3)

    one, two = report.loc[1], report.loc[2]
    assert (one["deliveries"], one["actual_days"], one["late_days"]) == (3, 10.0, 4.0)
    assert one["late_std_days"] == pytest.approx(2.6458, abs=1e-4)  # sample deviation of 2, 3, 7
    assert one["on_time_share"] == 0.0 and bool(one["measured"])
    assert (two["deliveries"], two["late_std_days"], two["on_time_share"], bool(two["measured"])) == (
        1,
        0.0,
        1.0,
        False,
    )


def test_planning_adds_average_lateness_rounded_up_and_never_counts_on_early_deliveries():
    assert planning_lead_time(6, 2.2, 1.04) == (9, 1.04)
    assert planning_lead_time(6, 0.0, 0.5) == (6, 0.5)
    assert planning_lead_time(6, -3.0, 0.5) == (6, 0.5)


# ---------------------------------------------------------------------------------------------------- the app


def deliver(supplier, location, product, *, sent: date, received: date, buyer, number: str):
    """A sent order of one line, received in full: its send and receipt times moved to the given days."""
    po = PurchaseOrder.objects.create(
        number=number, supplier=supplier, location=location, status="sent",
        sent_at=timezone.make_aware(datetime.combine(sent, time(9))),
    )  # fmt: skip
    line = PurchaseOrderLine.objects.create(
        purchase_order=po, product=product, quantity=10, suggested_quantity=10, unit_cost=Decimal("1")
    )
    purchasing.purchase_order_receive(purchase_order=po, actor=buyer, quantities={line.pk: 10})
    StockMovement.objects.filter(reference=number).update(at=timezone.make_aware(datetime.combine(received, time(15))))
    return po


@pytest.fixture
def late_supplier(personas):
    """Acme promises 6 days for TEA and took 8, 9, 9, 10 and 9 days (3 late on average, deviation 0.71)."""
    supplier = factories.SupplierFactory(code="acme", name="Acme")
    location = factories.LocationFactory(code="wh", name="Warehouse")
    tea = factories.ProductFactory(sku="TEA")
    terms = factories.SupplierProductFactory(supplier=supplier, product=tea, lead_time_days=6, lead_time_std_days=0)
    today = timezone.localdate()
    for i, days in enumerate((8, 9, 9, 10, 9)):
        sent = today - timedelta(days=60 - 10 * i)
        deliver(supplier, location, tea, sent=sent, received=sent + timedelta(days=days), buyer=personas["buyer"],
                number=f"PO-L{i}")  # fmt: skip
    return {"supplier": supplier, "location": location, "tea": tea, "terms": terms, "today": today}


@pytest.mark.django_db
def test_the_report_measures_what_the_ledger_shows(late_supplier):
    report = supplier_lead_time_report(today=late_supplier["today"])

    row = report.loc[late_supplier["supplier"].pk]
    assert (row["deliveries"], row["promised_days"], row["actual_days"], row["late_days"]) == (5, 6.0, 9.0, 3.0)
    assert row["late_std_days"] == pytest.approx(0.7071, abs=1e-4)
    assert bool(row["measured"])


@pytest.mark.django_db
def test_deliveries_older_than_the_history_window_are_not_counted(late_supplier, settings):
    settings.PO_LEAD_TIME_HISTORY_DAYS = 25  # the last two deliveries only

    row = supplier_lead_time_report(today=late_supplier["today"]).loc[late_supplier["supplier"].pk]

    assert row["deliveries"] == 2 and not bool(row["measured"])


@pytest.mark.django_db
def test_planning_terms_use_the_lead_time_kept_and_leave_the_terms_on_file_alone(late_supplier):
    terms = late_supplier["terms"]

    [planned], measured = with_measured_lead_times([terms], today=late_supplier["today"])

    assert (planned.lead_time_days, planned.lead_time_std_days) == (9, Decimal("0.71"))
    assert measured[late_supplier["supplier"].pk].deliveries == 5
    terms.refresh_from_db()
    assert (terms.lead_time_days, terms.lead_time_std_days) == (6, Decimal("0.00"))


@pytest.mark.django_db
def test_with_too_few_deliveries_the_terms_on_file_are_planned_with(late_supplier, settings):
    settings.PO_LEAD_TIME_MIN_DELIVERIES = 6

    [planned], measured = with_measured_lead_times([late_supplier["terms"]], today=late_supplier["today"])

    assert planned is late_supplier["terms"] and measured == {}


@pytest.mark.django_db
def test_a_suggestion_from_a_late_supplier_plans_and_explains_its_lead_time(late_supplier, personas):
    from tests.inventory.conftest import active_forecast

    loc, tea = late_supplier["location"], late_supplier["tea"]
    active_forecast({tea: 10.0}, start=AS_OF, horizon=40)
    StockLevel.objects.filter(product=tea, location=loc).update(on_hand=0, on_order=0)  # the receipts' stock sold

    purchasing.replenishment_suggest(location=loc, as_of=AS_OF)

    line = PurchaseOrderLine.objects.get(purchase_order__generated_for=AS_OF, product=tea)
    e = line.explanation
    # 6 promised + 3 late on average, + 1 for a deviation of 0.71 (rounded up); the cover adds the 7-day review.
    assert e["lead_time_days"] == 10
    assert e["cover_periods"] == 17
    assert e["measured_lead_time"] == {"deliveries": 5, "late_days": 3.0, "late_std_days": 0.7, "promised_days": 6}
    client = Client()
    client.force_login(personas["buyer"])
    html = client.get(f"/purchase-orders/{line.purchase_order_id}/").content.decode()
    assert "Lead time as kept: promised 6 d, 3.0 d late on average over 5 deliveries (deviation 0.7 d)" in html


@pytest.mark.django_db
def test_the_lead_time_page_shows_each_supplier_and_what_suggestions_plan_with(late_supplier, personas):
    factories.SupplierFactory(code="quiet", name="Quiet Ltd")
    client = Client()
    client.force_login(personas["buyer"])

    html = client.get("/purchase-orders/lead-times/").content.decode()

    acme = html[html.index('data-supplier="acme"') :].split("</tr>")[0]
    quiet = html[html.index('data-supplier="quiet"') :].split("</tr>")[0]
    assert '<td class="num">5</td>' in acme and "9.0" in acme and "The lead time it kept" in acme
    assert "Its terms (no deliveries yet)" in quiet
    assert html.index('data-supplier="acme"') < html.index('data-supplier="quiet"')


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["marketer", "supplier_partner", "channel_partner", "outsider"])
def test_the_lead_time_page_is_for_buyers(personas, persona):
    client = Client()
    client.force_login(personas[persona])

    assert client.get("/purchase-orders/lead-times/").status_code == 403


@pytest.mark.django_db
def test_the_what_if_page_and_the_stock_list_plan_with_the_lead_time_kept(late_supplier, personas):
    from tests.inventory.conftest import active_forecast

    loc, tea = late_supplier["location"], late_supplier["tea"]
    active_forecast({tea: 10.0}, start=late_supplier["today"], horizon=40)
    StockLevel.objects.filter(product=tea, location=loc).update(on_hand=95, on_order=0)
    client = Client()
    client.force_login(personas["buyer"])

    what_if = client.get(f"/purchase-orders/what-if/TEA/?location={loc.pk}").content.decode()
    stock = client.get("/stock/").content.decode()

    assert "the supplier quotes 6 days and ran 3.0 days late on average over its last 5 deliveries" in what_if
    assert "with the allowance for late deliveries, 10 days" in what_if
    # 95 in stock lasts 9.5 days of the 10 it takes a new order to come: 5 short.
    assert ">5 short<" in stock and "10-day lead time of the primary supplier" in stock


@pytest.mark.django_db
def test_an_order_sent_over_half_a_year_before_its_receipt_window_is_not_a_delivery(personas, settings):
    settings.PO_LEAD_TIME_HISTORY_DAYS = 30
    supplier = factories.SupplierFactory(code="slow")
    location = factories.LocationFactory(code="wh9")
    tea = factories.ProductFactory(sku="TEA9")
    factories.SupplierProductFactory(supplier=supplier, product=tea, lead_time_days=6)
    today = timezone.localdate()
    deliver(supplier, location, tea, sent=today - timedelta(days=220), received=today - timedelta(days=10),
            buyer=personas["buyer"], number="PO-OLD")  # fmt: skip
    deliver(supplier, location, tea, sent=today - timedelta(days=20), received=today - timedelta(days=12),
            buyer=personas["buyer"], number="PO-NEW")  # fmt: skip

    row = supplier_lead_time_report(today=today).loc[supplier.pk]

    assert (row["deliveries"], row["actual_days"]) == (1, 8.0)


@pytest.mark.django_db
def test_a_supplier_partner_reads_its_own_lead_times_over_the_api_and_no_one_elses(late_supplier, personas, api_as):
    acme = late_supplier["supplier"]
    own = personas["supplier_partner"].supplier_partner.supplier
    url = "/api/suppliers/{}/lead-times/"

    body = api_as(personas["buyer"]).get(url.format(acme.pk)).json()
    theirs = api_as(personas["supplier_partner"]).get(url.format(acme.pk))
    mine = api_as(personas["supplier_partner"]).get(url.format(own.pk)).json()

    assert (body["deliveries"], body["promised_days"], body["actual_days"], body["late_days"]) == (5, 6.0, 9.0, 3.0)
    assert body["planned_with_measured"] is True and body["min_deliveries"] == 5 and body["window_days"] == 365
    assert theirs.status_code == 404
    assert (mine["deliveries"], mine["late_days"], mine["planned_with_measured"]) == (0, None, False)
    assert api_as(personas["channel_partner"]).get(url.format(acme.pk)).status_code == 403
    assert api_as(None).get(url.format(acme.pk)).status_code == 401


@pytest.mark.django_db
def test_the_admin_shows_a_suppliers_lead_times_kept(late_supplier, personas):
    client = Client()
    client.force_login(personas["staff"])

    html = client.get(f"/admin/inventory/supplier/{late_supplier['supplier'].pk}/change/").content.decode()

    assert "5 deliveries: promised 6.0 d, kept 9.0 d, 3.0 d late on average (deviation 0.7 d), 0% on time." in html
    assert "Suggestions plan with the lead time kept." in html
