from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The order-history totals scan every order line; a short cache keeps the home page quick on large histories.
TOTALS_CACHE_KEY = "commerce:home-totals"
TOTALS_CACHE_SECONDS = 300


def _order_history_rows(user) -> list[tuple[str, object]]:
    from django.core.cache import cache
    from django.utils.dateparse import parse_datetime
    from django.utils.formats import number_format

    from .selectors import commerce_totals

    totals = cache.get(TOTALS_CACHE_KEY)
    if totals is None:
        totals = commerce_totals()
        cache.set(TOTALS_CACHE_KEY, totals, TOTALS_CACHE_SECONDS)
    first = parse_datetime(totals["first_order_at"]) if totals.get("first_order_at") else None
    last = parse_datetime(totals["last_order_at"]) if totals.get("last_order_at") else None
    return [
        (_("Orders"), number_format(totals["orders"], force_grouping=True)),
        (_("Order lines"), number_format(totals["order_lines"], force_grouping=True)),
        (_("Customers"), number_format(totals["customers"], force_grouping=True)),
        (_("Products"), number_format(totals["products"], force_grouping=True)),
        (_("First order"), first.date() if first else "—"),
        (_("Latest order"), last.date() if last else "—"),
    ]


class CommerceConfig(AppConfig):
    """The facts every app reads: products, customers, channels, orders."""

    name = "retailai.commerce"
    label = "commerce"
    verbose_name = _("Commerce")

    def ready(self):
        from retailai.core.choices import Role
        from retailai.core.home import HomePanel, register_panel
        from retailai.core.navigation import NavItem, register

        internal = (Role.STAFF, Role.BUYER, Role.MARKETER)
        register(NavItem(key="orders", label=_("Orders"), url_name="commerce:order-list", roles=internal, order=20))
        register(NavItem(key="admin", label=_("Admin"), url_name="admin:index", roles=(Role.STAFF,), order=900))
        register(NavItem(key="api-docs", label=_("API docs"), url_name="api-docs", roles=(Role.STAFF,), order=910))
        register_panel(
            HomePanel(
                key="order-history",
                title=_("Order history"),
                roles=internal,
                rows=_order_history_rows,
                order=10,
            )
        )
