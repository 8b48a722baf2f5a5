"""Back-office pages of the commerce app."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from retailai.core.roles import is_internal

from .selectors import orders_visible_to


@login_required
def order_list(request):
    """Recent orders, newest first."""
    if not is_internal(request.user):
        raise PermissionDenied
    page = Paginator(orders_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "commerce/order_list.html", {"page": page})
