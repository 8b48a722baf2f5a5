"""The back-office menu. Apps add entries in their AppConfig.ready(); each entry names the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from .roles import user_roles


@dataclass(frozen=True)
class NavItem:
    """One menu entry."""

    key: str
    label: str
    url_name: str
    roles: tuple[str, ...]
    order: int = 100


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    """Add (or replace, by key) a menu entry."""
    _REGISTRY[item.key] = item


def navigation_for(user) -> list[dict]:
    """The entries the user's roles allow, in menu order, with resolved URLs."""
    roles = user_roles(user)
    if not roles:
        return []
    items = []
    for item in sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key)):
        if not roles & set(item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"key": item.key, "label": item.label, "url": url})
    return items
