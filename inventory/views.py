"""Back-office pages of the inventory app."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from retailai.core.choices import Role
from retailai.core.roles import has_role

from .models import Location
from .selectors import stock_levels_visible_to


class StockFilterForm(forms.Form):
    """The filters above the stock list; every field is optional."""

    q = forms.CharField(label=_("SKU"), required=False, max_length=64)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label=_("All locations"),
    )
    out_of_stock = forms.BooleanField(label=_("Out of stock only"), required=False)

    def filter(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["q"].strip():
            qs = qs.filter(product__sku__istartswith=data["q"].strip())
        if data["location"]:
            qs = qs.filter(location=data["location"])
        if data["out_of_stock"]:
            qs = qs.filter(on_hand__lte=0)
        return qs


@login_required
def stock_list(request):
    """Stock by product and location, filtered by location, SKU and stock-outs."""
    if not has_role(request.user, Role.STAFF, Role.BUYER):
        raise PermissionDenied
    form = StockFilterForm(request.GET or None)
    levels = form.filter(stock_levels_visible_to(request.user))
    page = Paginator(levels, 50).get_page(request.GET.get("page"))
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "inventory/stock_list.html", {"page": page, "form": form, "filtered": filtered})
