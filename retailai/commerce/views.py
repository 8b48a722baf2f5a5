"""Back-office pages of the commerce app."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from retailai.core.roles import is_internal

from .choices import OrderKind, OrderStatus
from .models import Channel
from .selectors import orders_visible_to


class OrderFilterForm(forms.Form):
    """The filters above the order list; every field is optional."""

    q = forms.CharField(label=_("Order number"), required=False, max_length=64)
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.order_by("name"), required=False, empty_label=_("All channels")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All statuses")), *OrderStatus.choices], required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *OrderKind.choices], required=False)
    placed_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    placed_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def filter(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["q"].strip():
            qs = qs.filter(external_id__istartswith=data["q"].strip())
        if data["channel"]:
            qs = qs.filter(channel=data["channel"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["placed_from"]:
            qs = qs.filter(placed_at__date__gte=data["placed_from"])
        if data["placed_to"]:
            qs = qs.filter(placed_at__date__lte=data["placed_to"])
        return qs


@login_required
def order_list(request):
    """Orders newest first, filtered by channel, status, kind, date and order number."""
    if not is_internal(request.user):
        raise PermissionDenied
    form = OrderFilterForm(request.GET or None)
    orders = form.filter(orders_visible_to(request.user))
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    return render(request, "commerce/order_list.html", {"page": page, "form": form, "filtered": filtered})
