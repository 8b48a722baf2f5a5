"""API views of the forecasting app."""

from rest_framework import viewsets
from rest_framework.permissions import BasePermission

from forecasting.filtersets import ForecastFilterSet
from forecasting.selectors import forecasts_visible_to
from retailai.core.choices import Role
from retailai.core.roles import has_role, is_internal

from .serializers import ForecastSerializer


class CanReadForecasts(BasePermission):
    """The retailer's roles, and supplier partners (collaborative planning on the products they supply)."""

    message = "Forecasts are for the retailer's staff and buyers, and for suppliers on their own products."

    def has_permission(self, request, view):
        user = request.user
        return is_internal(user) or (has_role(user, Role.PARTNER) and hasattr(user, "supplier_partner"))


class ForecastViewSet(viewsets.ReadOnlyModelViewSet):
    """Forecasts of the active runs: quantiles of demand per product and period."""

    serializer_class = ForecastSerializer
    permission_classes = [CanReadForecasts]
    filterset_class = ForecastFilterSet
    ordering_fields = ["date"]

    def get_queryset(self):
        return forecasts_visible_to(self.request.user).order_by("product__sku", "date")
