"""Home-page panels; apps add theirs in AppConfig.ready(), each for the roles it concerns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .roles import user_roles


@dataclass(frozen=True)
class HomePanel:
    """A card on the home page: a title and a callable that returns rows of (label, value)."""

    key: str
    title: str
    roles: tuple[str, ...]
    rows: Callable[[object], list[tuple[str, object]]]
    order: int = 100


_PANELS: dict[str, HomePanel] = {}


def register_panel(panel: HomePanel) -> None:
    """Add (or replace, by key) a home-page panel."""
    _PANELS[panel.key] = panel


def home_panels(user) -> list[dict]:
    """The panels the user's roles allow, rendered to rows."""
    roles = user_roles(user)
    return [
        {"key": p.key, "title": p.title, "rows": p.rows(user)}
        for p in sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
        if roles & set(p.roles)
    ]
