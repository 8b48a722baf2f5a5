from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

STOCK_CACHE_KEY = "inventory:home-stock"
STOCK_CACHE_SECONDS = 60


def _stock_rows(user) -> list[tuple[str, object]]:
    from django.core.cache import cache
    from django.utils.formats import number_format

    from .selectors import stock_summary

    summary = cache.get(STOCK_CACHE_KEY)
    if summary is None:
        summary = stock_summary()
        cache.set(STOCK_CACHE_KEY, summary, STOCK_CACHE_SECONDS)
    return [
        (_("Locations"), number_format(summary["locations"], force_grouping=True)),
        (_("SKUs with stock"), number_format(summary["skus_with_stock"], force_grouping=True)),
        (_("SKUs out of stock"), number_format(summary["skus_out_of_stock"], force_grouping=True)),
    ]


class InventoryConfig(AppConfig):
    """Locations, stock, the stock ledger, suppliers and what they supply."""

    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from retailai.core.choices import Role
        from retailai.core.home import HomePanel, register_panel
        from retailai.core.navigation import NavItem, register

        roles = (Role.STAFF, Role.BUYER)
        register(NavItem(key="stock", label=_("Stock"), url_name="inventory:stock-list", roles=roles, order=30))
        register_panel(HomePanel(key="stock", title=_("Stock"), roles=roles, rows=_stock_rows, order=20))
        register(
            NavItem(
                key="purchase-orders", label=_("Purchase orders"), url_name="inventory:po-inbox", roles=roles, order=32
            )
        )
