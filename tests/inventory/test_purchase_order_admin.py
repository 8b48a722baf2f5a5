"""The purchase order in the admin: a read-only page titled "View purchase order" (and a list that says so), while
the admin actions that approve and send orders through the purchasing services still run for staff."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from inventory import purchasing
from inventory.models import PurchaseOrder
from tests.browser_support import browser_test
from tests.inventory.conftest import AS_OF

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(personas) -> Client:
    client = Client()
    client.force_login(personas["staff"])
    return client


def test_the_order_page_is_a_view_not_a_form(assortment, suggest, staff_client):
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])

    response = staff_client.get(f"/admin/inventory/purchaseorder/{po.pk}/change/")

    assert response.status_code == 200
    assert response.context["title"] == "View purchase order"
    html = response.content.decode()
    assert f"<title>{po.number} | View purchase order |" in html and "Change purchase order" not in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html  # nothing to save


def test_posting_the_order_page_is_refused_and_changes_nothing(assortment, suggest, staff_client):
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])

    response = staff_client.post(f"/admin/inventory/purchaseorder/{po.pk}/change/", {"status": "sent"})

    assert response.status_code == 403
    assert PurchaseOrder.objects.get(pk=po.pk).status == "draft"


def test_staff_still_approve_from_the_list(assortment, suggest, staff_client):
    suggest()
    po = PurchaseOrder.objects.get(supplier=assortment["own"])

    listing = staff_client.get("/admin/inventory/purchaseorder/")
    response = staff_client.post(
        "/admin/inventory/purchaseorder/", {"action": "approve_selected", ACTION_CHECKBOX_NAME: [po.pk]}, follow=True
    )

    assert 'value="approve_selected"' in listing.content.decode()
    assert listing.context["title"] == "Select purchase order to view"
    assert "<h1>Select purchase order to view</h1>" in listing.content.decode()
    assert response.status_code == 200
    assert PurchaseOrder.objects.get(pk=po.pk).status == "approved"


@browser_test
@pytest.mark.django_db(transaction=True)
def test_staff_see_the_order_page_as_a_view_in_the_browser(ui, personas, assortment):
    purchasing.replenishment_suggest(location=assortment["location"], as_of=AS_OF)
    po = PurchaseOrder.objects.get(supplier=assortment["own"])

    ui.login("staff")
    ui.open(f"/admin/inventory/purchaseorder/{po.pk}/change/")
    heading = ui.wait_for("#content h1")

    assert heading.text == "View purchase order"
    assert not ui.find_all("input[name=_save]")
    ui.shot("admin-purchase-order-view")
