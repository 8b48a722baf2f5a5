from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    """Recommendations per customer, similar and bought-together products, served with business rules."""

    name = "recommendations"
    verbose_name = _("Recommendations")

    def ready(self):
        from retailai.core.choices import Role
        from retailai.core.navigation import NavItem, register

        register(
            NavItem(
                key="recommendations",
                label=_("Recommendations"),
                url_name="recommendations:run-dashboard",
                roles=(Role.STAFF, Role.MARKETER),
                order=40,
            )
        )
