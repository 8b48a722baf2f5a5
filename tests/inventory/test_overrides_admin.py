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


@pytest.mark.django_db
def test_the_order_page_in_the_admin_links_to_its_lines_instead_of_listing_them(assortment, suggest, personas):
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])
    client = Client()
    client.force_login(personas["staff"])

    page = client.get(f"/admin/inventory/purchaseorder/{po.pk}/change/")
    lines = client.get("/admin/inventory/purchaseorderline/", {"purchase_order": po.pk})

    assert page.status_code == 200
    html = page.content.decode()
    count = po.lines.count()
    assert f"{count} line" in html and f"/purchase-orders/{po.pk}/" in html
    assert f"/admin/inventory/purchaseorderline/?purchase_order={po.pk}" in html
    assert "tabular inline-related" not in html  # no inline table of every line
    assert lines.status_code == 200
    assert PurchaseOrderLine.objects.exclude(purchase_order=po).exists()  # the filter has lines to leave out
    assert sorted(ln.pk for ln in lines.context["cl"].result_list) == sorted(po.lines.values_list("pk", flat=True))
