"""The back office in a real browser: sign-in, role menus, stock, the admin, the language switch, refusals."""

from __future__ import annotations

import pytest

from inventory.models import StockLevel, StockMovement
from retailai.core.models import JobRun
from tests import factories
from tests.browser_support import BROWSER_MARKS

pytestmark = BROWSER_MARKS


@pytest.fixture
def shop(personas, web_channel):
    """A little shop: two locations, stock including a stock-out, a few orders and job runs."""
    north = factories.LocationFactory(code="wh-north", name="North warehouse")
    store = factories.LocationFactory(code="store-leeds", name="Leeds store")
    mug = factories.ProductFactory(sku="MUG-001", name="Enamel mug, blue")
    lamp = factories.ProductFactory(sku="LAMP-014", name="Desk lamp, brass")
    factories.StockLevelFactory(product=mug, location=north, on_hand=124, on_order=48, reserved=6)
    factories.StockLevelFactory(product=mug, location=store, on_hand=9, reserved=2)
    factories.StockLevelFactory(product=lamp, location=north, on_hand=0, on_order=20)
    for n in range(3):
        order = factories.OrderFactory(channel=web_channel, external_id=f"WEB-10{n}")
        factories.OrderLineFactory(order=order, product=mug, quantity=n + 1)
    JobRun.objects.create(kind="import.orders", status="succeeded", progress=100, message="Imported 3 orders")
    JobRun.objects.create(kind="forecast.train", status="running", progress=62, message="Training 2 of 3 models")
    JobRun.objects.create(kind="forecast.score", status="failed", progress=35, error="Worker lost")
    return {"mug": mug, "lamp": lamp, "order": order}


@pytest.mark.django_db(transaction=True)
def test_buyer_signs_in_and_sees_stock(ui, personas, shop):
    ui.open("/login/")
    ui.wait_for("#id_username")
    ui.shot("login")

    ui.login("buyer")

    nav = [a.get_attribute("data-nav") for a in ui.find_all("nav.mainnav a[data-nav]")]
    assert {"orders", "stock"} <= set(nav)
    assert "admin" not in nav and "api-docs" not in nav
    assert ui.find("[data-panel=stock]").is_displayed()
    ui.shot("home-buyer")

    ui.find("nav.mainnav a[data-nav=stock]").click()
    ui.wait_for("table.data tbody tr")
    rows = [r.text for r in ui.find_all("table.data tbody tr")]
    assert any("MUG-001" in r and "North warehouse" in r and "124" in r for r in rows)
    ui.shot("stock-buyer")

    ui.find("#id_out_of_stock").click()
    ui.find(".filters button.primary").click()
    ui.wait_for(".filters a.button")
    rows = [r.text for r in ui.find_all("table.data tbody tr")]
    assert len(rows) == 1 and "LAMP-014" in rows[0]

    ui.find("nav.mainnav a[data-nav=orders]").click()
    ui.wait_for("table.data tbody tr")
    assert len(ui.find_all("table.data tbody tr")) == 3
    ui.shot("orders-buyer")


@pytest.mark.django_db(transaction=True)
def test_staff_sees_job_progress_in_the_admin(ui, personas, shop):
    ui.login("staff")
    nav = [a.get_attribute("data-nav") for a in ui.find_all("nav.mainnav a[data-nav]")]
    assert "admin" in nav and "api-docs" in nav
    ui.shot("home-staff")

    ui.open("/admin/core/jobrun/")
    ui.wait_for("#result_list")

    bars = ui.find_all("#result_list .progress .progress-fill")
    assert len(bars) == 3
    assert "62%" in ui.find("#result_list").text
    assert "RetailAI back office" in ui.find("#site-name").text
    ui.shot("admin-jobruns")

    order = shop["order"]
    ui.open(f"/admin/commerce/order/{order.pk}/change/")
    ui.wait_for("#lines-group")
    assert not ui.find_all("#lines-group input[name$='-quantity']")  # stored lines are shown, not editable
    ui.shot("admin-order")

    ui.open("/admin/inventory/stocklevel/?q=LAMP-014")
    ui.wait_for("#result_list")
    ui.shot("admin-stocklevels")

    ui.find("#result_list td.field-adjust_link a").click()
    ui.wait_for("form.adjust-form")
    ui.find("#id_quantity").send_keys("5")
    ui.find("#id_reason").send_keys("Found in returns cage")
    ui.shot("admin-adjust-stock")
    ui.find("form.adjust-form input[type=submit]").click()
    ui.wait_for("ul.messagelist li.success")

    lamp_north = StockLevel.objects.get(product=shop["lamp"], location__code="wh-north")
    assert lamp_north.on_hand == 5
    assert StockMovement.objects.filter(product=shop["lamp"], kind="adjustment", quantity=5).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_longest_menu_fits_the_top_bar_at_laptop_and_tablet_widths(ui, personas, shop):
    """Staff hold the longest menu: every entry stays in view without a scroll bar, in one row down to 1024 px
    (the brand stands in for Home) and in a row of its own under the brand below that."""
    ui.login("staff")
    measure = """
        const menu = document.querySelector('nav.mainnav');
        const nav = menu.getBoundingClientRect();
        const links = [...menu.querySelectorAll('a')].filter(a => a.offsetParent !== null);
        const box = a => { const r = a.getBoundingClientRect(); return [a.dataset.nav || 'home', r.left, r.right]; };
        return {
            nav: [nav.left, nav.right, nav.top, nav.bottom],
            links: links.map(box),
            overflow: menu.scrollWidth - menu.clientWidth,
            page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            bar: document.querySelector('header.topbar').getBoundingClientRect().height,
            brand: document.querySelector('.brand').getBoundingClientRect().bottom,
        };
    """
    try:
        for width in (1024, 800):
            ui.driver.set_window_size(width, 900)
            ui.open("/")
            ui.wait_for("nav.mainnav")
            m = ui.driver.execute_script(measure)
            keys = [k for k, _, _ in m["links"]]
            assert {"orders", "forecasting", "stock", "purchase-orders", "admin", "api-docs"} <= set(keys), keys
            assert m["overflow"] <= 0 and m["page"] <= 0, (width, m)
            left, right = m["nav"][0], m["nav"][1]
            assert all(left <= a and b <= right + 0.5 for _, a, b in m["links"]), (width, m)
            if width == 1024:
                assert m["bar"] <= 56 and "home" not in keys, m
            else:
                assert m["nav"][2] >= m["brand"], m
            ui.shot(f"topbar-staff-{width}")
    finally:
        ui.driver.set_window_size(1366, 900)


@pytest.mark.django_db(transaction=True)
def test_language_switch_to_simplified_chinese(ui, personas, shop, zh_catalogue):
    from selenium.webdriver.support.ui import Select

    ui.login("buyer")
    assert ui.find("h1").text.startswith("Welcome")

    Select(ui.find(".langbox select")).select_by_visible_text("简体中文")
    ui.wait_for("html[lang=zh-hans]")

    assert ui.find("h1").text.startswith("欢迎")
    assert "库存" in ui.find("nav.mainnav").text
    ui.shot("home-buyer-zh")

    ui.find("nav.mainnav a[data-nav=stock]").click()
    ui.wait_for("table.data tbody tr")
    assert ui.find("h1").text == "库存"
    ui.shot("stock-buyer-zh")


@pytest.mark.django_db(transaction=True)
def test_outsider_gets_the_403_page(ui, personas):
    ui.login("outsider")

    ui.open("/stock/")
    ui.wait_for("[data-error='403']")

    assert "This page is not part of your role" in ui.find("h1").text
    ui.shot("forbidden-outsider")
