from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    """The facts every app reads: products, customers, channels, orders."""

    name = "retailai.commerce"
    label = "commerce"
    verbose_name = _("Commerce")
