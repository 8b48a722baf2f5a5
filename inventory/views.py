"""Back-office pages of the inventory app."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from retailai.core.choices import Role
from retailai.core.roles import has_role

from .selectors import stock_levels_visible_to


@login_required
def stock_list(request):
    """Stock by product and location."""
    if not has_role(request.user, Role.STAFF, Role.BUYER):
        raise PermissionDenied
    page = Paginator(stock_levels_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/stock_list.html", {"page": page})
