"""Overrides kept for analysis: the admin lists suggested against ordered quantities, filtered by direction."""

import pytest
from django.test import Client

from inventory.models import PurchaseOrder, PurchaseOrderLine
from inventory.purchasing import purchase_order_line_update


@pytest.mark.django_db
def test_admin_lists_overridden_lines_with_their_change_and_reason(assortment, suggest, personas):
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    tea = po.lines.get(product__sku="TEA")  # suggested 95
    purchase_order_line_update(line=tea, quantity=40, actor=personas["buyer"], reason="Shelf reset next week")

    client = Client()
    client.force_login(personas["staff"])
    cut = client.get("/admin/inventory/purchaseorderline/", {"override": "cut"})
    unchanged = client.get("/admin/inventory/purchaseorderline/", {"override": "none"})

    assert cut.status_code == 200
    assert [ln.pk for ln in cut.context["cl"].result_list] == [tea.pk]
    html = cut.content.decode()
    assert "-58%" in html and "Shelf reset next week" in html
    assert tea.pk not in [ln.pk for ln in unchanged.context["cl"].result_list]
    assert len(unchanged.context["cl"].result_list) == PurchaseOrderLine.objects.count() - 1
    # Read-only: the line cannot be changed from here.
    assert client.post(f"/admin/inventory/purchaseorderline/{tea.pk}/change/", {"quantity": 1}).status_code == 403
    assert PurchaseOrderLine.objects.get(pk=tea.pk).quantity == 40


@pytest.mark.django_db
def test_outsiders_cannot_open_the_override_list(personas):
    client = Client()
    client.force_login(personas["outsider"])
    assert client.get("/admin/inventory/purchaseorderline/").status_code == 302
