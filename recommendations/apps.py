from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    """The recommendations app; its models and engine arrive with its own issue."""

    name = "recommendations"
    verbose_name = _("Recommendations")
