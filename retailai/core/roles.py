"""Roles are Django groups; these helpers answer 'may this user act as ...'."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, Permission

from .choices import Role

# Model permissions each role's group carries (app_label, codename prefixes).
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.STAFF: {
        "commerce": ("view", "add", "change", "delete"),
        "inventory": ("view", "add", "change", "delete"),
        "forecasting": ("view",),  # runs, forecasts and backtests are written by the pipeline only
        "core": ("view",),
        "authtoken": ("view", "add", "delete"),
    },
    Role.BUYER: {"commerce": ("view",), "inventory": ("view",), "forecasting": ("view",), "core": ("view",)},
    Role.MARKETER: {"commerce": ("view",), "inventory": ("view",), "core": ("view",)},
    Role.PARTNER: {},
}


def user_roles(user) -> set[str]:
    """The role names a user holds; a superuser holds all."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Role.values)
    cached = getattr(user, "_retailai_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._retailai_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    """True when the user holds any of the roles."""
    return bool(user_roles(user) & set(roles))


def is_internal(user) -> bool:
    """Staff, buyers and marketers: people of the retailer, not partners."""
    return has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER)


def roles_sync() -> None:
    """Create the role groups and give them their model permissions (idempotent)."""
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for app_label, actions in apps.items():
            qs = Permission.objects.filter(content_type__app_label=app_label)
            perms.extend(p for p in qs if p.codename.split("_", 1)[0] in actions)
        group.permissions.set(perms)
