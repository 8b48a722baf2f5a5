from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    """The pricing app; its models and engine arrive with its own issue."""

    name = "pricing"
    verbose_name = _("Pricing")
