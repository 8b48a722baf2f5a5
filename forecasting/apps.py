from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    """Demand forecasts per SKU with intervals, backtests and model choice."""

    name = "forecasting"
    verbose_name = _("Forecasting")

    def ready(self):
        from retailai.core.choices import Role
        from retailai.core.navigation import NavItem, register

        register(
            NavItem(
                key="forecasting",
                label=_("Forecasts"),
                url_name="forecasting:run-dashboard",
                roles=(Role.STAFF, Role.BUYER),
                order=30,
            )
        )
