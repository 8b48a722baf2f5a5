"""API views of the inventory app."""

from rest_framework import viewsets

from inventory.filtersets import StockLevelFilterSet, SupplierFilterSet, SupplierProductFilterSet
from inventory.selectors import stock_levels_visible_to, supplier_products_visible_to, suppliers_visible_to
from retailai.core.api.permissions import ReadAnyRoleWriteStaff

from .permissions import IsInternalOrSupplierPartner
from .serializers import StockLevelSerializer, SupplierProductSerializer, SupplierSerializer


class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock by product and location. The retailer's roles see all; a supplier partner the stock of what it
    supplies; a channel partner the stock at the locations serving its channel."""

    serializer_class = StockLevelSerializer
    permission_classes = [ReadAnyRoleWriteStaff]
    filterset_class = StockLevelFilterSet
    ordering_fields = ["on_hand", "updated_at"]

    def get_queryset(self):
        return stock_levels_visible_to(self.request.user)


class SupplierViewSet(viewsets.ReadOnlyModelViewSet):
    """Suppliers. The retailer's roles see all; a supplier partner only its own supplier."""

    serializer_class = SupplierSerializer
    permission_classes = [IsInternalOrSupplierPartner]
    filterset_class = SupplierFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["name", "code"]

    def get_queryset(self):
        return suppliers_visible_to(self.request.user)


class SupplierProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Supply terms (lead time, MOQ, pack size, cost). The retailer's roles see all; a supplier partner its own."""

    serializer_class = SupplierProductSerializer
    permission_classes = [IsInternalOrSupplierPartner]
    filterset_class = SupplierProductFilterSet
    search_fields = ["product__sku", "product__name", "supplier_sku"]
    ordering_fields = ["lead_time_days", "unit_cost"]

    def get_queryset(self):
        return supplier_products_visible_to(self.request.user)
