from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from .roles import roles_sync

    roles_sync()


class CoreConfig(AppConfig):
    """Shared plumbing with no domain: job runs, audit events, roles, env helpers."""

    name = "retailai.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        # Role groups need the permissions that post_migrate creates, so they are synced after it.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="retailai.core.sync_roles")
