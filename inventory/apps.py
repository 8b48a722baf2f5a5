from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    """Locations, stock, the stock ledger, suppliers and what they supply."""

    name = "inventory"
    verbose_name = _("Inventory")
