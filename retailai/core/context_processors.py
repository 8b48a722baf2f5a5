"""Template context: the navigation for the current user's roles."""

from .navigation import navigation_for


def navigation(request):
    """Adds `nav_items` (the menu entries this user may open) to every template."""
    return {"nav_items": navigation_for(getattr(request, "user", None))}
