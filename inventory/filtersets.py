"""Filters of the inventory API."""

import django_filters

from .models import StockLevel, Supplier, SupplierProduct


class StockLevelFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="iexact", label="Product SKU")
    location = django_filters.CharFilter(field_name="location__code", label="Location code")
    below = django_filters.NumberFilter(field_name="on_hand", lookup_expr="lte", label="On hand at most")

    class Meta:
        model = StockLevel
        fields = ["sku", "location", "below"]


class SupplierFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = Supplier
        fields = ["code", "active"]


class SupplierProductFilterSet(django_filters.FilterSet):
    supplier = django_filters.CharFilter(field_name="supplier__code", label="Supplier code")
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="iexact", label="Product SKU")

    class Meta:
        model = SupplierProduct
        fields = ["supplier", "sku", "is_primary"]
