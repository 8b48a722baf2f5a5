from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    """The forecasting app; its models and engine arrive with its own issue."""

    name = "forecasting"
    verbose_name = _("Forecasting")
