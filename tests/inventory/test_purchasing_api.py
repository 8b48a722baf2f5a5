"""The purchase-order API: who sees what, the buyer's transitions (400/403/409), the supplier partner's
confirmation and ship notice, bulk approval and receiving."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import purchasing
from inventory.models import PurchaseOrder, StockLevel
from retailai.core.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(assortment, suggest):
    """The two drafts of the warehouse: `own` (the supplier partner's supplier) and `other`."""
    suggest()
    return {
        "own": PurchaseOrder.objects.get(supplier=assortment["own"]),
        "other": PurchaseOrder.objects.get(supplier=assortment["other"]),
    }


def url(po=None, action=None) -> str:
    base = "/api/purchase-orders/"
    if po is None:
        return base + (f"{action}/" if action else "")
    return f"{base}{po.pk}/" + (f"{action}/" if action else "")


def test_anonymous_gets_401(orders, api_as):
    assert api_as(None).get(url()).status_code == 401


@pytest.mark.parametrize("persona", ["outsider", "marketer", "channel_partner"])
def test_others_get_403(personas, orders, api_as, persona):
    client = api_as(personas[persona])
    assert client.get(url()).status_code == 403
    assert client.post(url(orders["own"], "approve")).status_code == 403
    assert PurchaseOrder.objects.filter(status="draft").count() == 2


def test_buyer_lists_orders_with_lines_and_explanations(personas, orders, api_as, django_assert_max_num_queries):
    client = api_as(personas["buyer"])
    with django_assert_max_num_queries(8):
        response = client.get(url(), {"ordering": "cover_slack_days"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["number"] for r in rows] == [orders["own"].number, orders["other"].number]
    tea = next(ln for ln in rows[0]["lines"] if ln["product"]["sku"] == "TEA")
    assert tea["quantity"] == 95 and tea["explanation"]["inventory_position"] == 45


def test_buyer_workflow_with_a_second_approver(personas, orders, api_as, settings, assortment):
    settings.PO_SECOND_APPROVAL_VALUE = 100
    buyer, staff = api_as(personas["buyer"]), api_as(personas["staff"])
    po = orders["other"]  # 120.00
    jam_line = po.lines.get()

    # A big change without a reason: 400 naming the field, nothing written.
    response = buyer.post(url(po, "edit-line"), {"line": jam_line.pk, "quantity": 200})
    assert response.status_code == 400 and "reason" in response.json()
    assert buyer.post(url(po, "edit-line"), {"line": jam_line.pk, "quantity": -4}).status_code == 400
    jam_line.refresh_from_db()
    assert jam_line.quantity == 60 and not AuditEvent.objects.filter(verb="purchase_order.line_update").exists()

    response = buyer.post(url(po, "edit-line"), {"line": jam_line.pk, "quantity": 66})
    assert response.status_code == 200 and response.json()["total_value"] == "132.00"

    response = buyer.post(url(po, "approve"))
    assert response.status_code == 200 and response.json()["status"] == "second_approval"
    response = buyer.post(url(po, "approve"))
    assert response.status_code == 403 and response.json()["code"] == "second_approver_required"

    response = staff.post(url(po, "approve"))
    assert response.status_code == 200
    assert response.json()["status"] == "approved" and response.json()["second_approver"] == "staff"
    assert StockLevel.objects.get(product=jam_line.product, location=po.location).on_order == 66

    assert staff.post(url(po, "approve")).status_code == 409
    assert buyer.post(url(po, "send")).json()["status"] == "sent"


def test_reject_needs_a_reason(personas, orders, api_as):
    client = api_as(personas["buyer"])

    response = client.post(url(orders["own"], "reject"), {"reason": ""})
    assert response.status_code == 400 and "reason" in response.json()

    response = client.post(url(orders["own"], "reject"), {"reason": "Overstocked"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "Overstocked")
    assert client.post(url(orders["own"], "approve")).status_code == 409


def test_bulk_approve(personas, orders, api_as):
    client = api_as(personas["buyer"])
    purchasing.purchase_order_reject(purchase_order=orders["other"], actor=personas["buyer"], reason="no")

    response = client.post(url(action="bulk-approve"), {"ids": [orders["own"].pk, orders["other"].pk]})

    assert response.status_code == 200
    body = response.json()
    assert body["approved"] == [orders["own"].pk] and body["awaiting_second_approval"] == []
    assert [f["id"] for f in body["failed"]] == [orders["other"].pk]
    assert client.post(url(action="bulk-approve"), {"ids": [987654]}).status_code == 400


def test_supplier_partner_sees_only_its_released_orders(personas, orders, api_as, assortment):
    partner = api_as(personas["supplier_partner"])
    assert partner.get(url()).json()["results"] == []  # drafts are internal

    for po in orders.values():
        purchasing.purchase_order_approve(purchase_order=po, actor=personas["buyer"])
    rows = partner.get(url()).json()["results"]

    assert [r["number"] for r in rows] == [orders["own"].number]
    assert "explanation" not in rows[0]["lines"][0] and "approved_by" not in rows[0]
    assert partner.get(url(orders["other"])).status_code == 404
    assert partner.post(url(orders["other"], "confirm")).status_code == 404


def test_supplier_partner_confirms_and_posts_a_ship_notice(personas, orders, api_as):
    po = orders["own"]
    purchasing.purchase_order_approve(purchase_order=po, actor=personas["buyer"])
    purchasing.purchase_order_send(purchase_order=po, actor=personas["buyer"])
    partner = api_as(personas["supplier_partner"])

    assert partner.post(url(po, "approve")).status_code == 403
    assert partner.post(url(po, "confirm")).status_code == 200
    assert partner.post(url(po, "confirm")).status_code == 409

    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = partner.post(url(po, "ship-notice"), {"expected_delivery": past})
    assert response.status_code == 400 and "expected_delivery" in response.json()
    assert partner.post(url(po, "ship-notice"), {"expected_delivery": "soon"}).status_code == 400

    day = timezone.localdate() + timedelta(days=4)
    response = partner.post(url(po, "ship-notice"), {"expected_delivery": day.isoformat(), "reference": "ASN-7"})
    assert response.status_code == 200
    po.refresh_from_db()
    assert (po.expected_delivery, po.ship_reference) == (day, "ASN-7")
    assert AuditEvent.objects.filter(verb="purchase_order.ship_notice", actor=personas["supplier_partner"]).count() == 1


def test_receiving_over_the_api(personas, orders, api_as, assortment):
    po = orders["other"]
    purchasing.purchase_order_approve(purchase_order=po, actor=personas["buyer"])
    purchasing.purchase_order_send(purchase_order=po, actor=personas["buyer"])
    client = api_as(personas["buyer"])
    jam_line = po.lines.get()

    response = client.post(url(po, "receive"), {"lines": [{"line": jam_line.pk, "quantity": 80}]})
    assert response.status_code == 400 and response.json()["code"] == "over_receipt"

    response = client.post(url(po, "receive"), {"lines": [{"line": jam_line.pk, "quantity": 60}], "reference": "DN"})
    assert response.status_code == 200 and response.json()["status"] == "received"
    stock = StockLevel.objects.get(product=jam_line.product, location=po.location)
    assert (stock.on_hand, stock.on_order) == (60, 0)


def test_marketer_cannot_receive_and_partner_cannot_receive(personas, orders, api_as):
    po = orders["own"]
    purchasing.purchase_order_approve(purchase_order=po, actor=personas["buyer"])
    line = po.lines.first()
    body = {"lines": [{"line": line.pk, "quantity": 1}]}
    assert api_as(personas["supplier_partner"]).post(url(po, "receive"), body).status_code == 403
    assert api_as(personas["marketer"]).post(url(po, "receive"), body).status_code == 403


def test_schema_lists_the_purchase_order_actions(personas, api_as):
    factories.LocationFactory()
    response = api_as(personas["staff"]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for action in ("approve", "reject", "ship-notice", "receive", "edit-line"):
        assert f"/api/purchase-orders/{{id}}/{action}/" in paths
    assert "/api/purchase-orders/bulk-approve/" in paths
