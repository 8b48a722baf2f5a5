"""Filters of the commerce API."""

import django_filters

from .choices import OrderKind, OrderStatus
from .models import Category, Customer, Order, Product, Promotion


class CategoryFilterSet(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Top-level categories only")

    class Meta:
        model = Category
        fields = ["parent", "root", "code"]


class ProductFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(lookup_expr="iexact")
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all())
    brand = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Product
        fields = ["sku", "category", "brand", "active", "is_merchandise"]


class CustomerFilterSet(django_filters.FilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Customer
        fields = ["country"]


class OrderFilterSet(django_filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code", label="Channel code")
    customer = django_filters.CharFilter(field_name="customer__external_id", label="Customer external id")
    external_id = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    kind = django_filters.ChoiceFilter(choices=OrderKind.choices)
    placed_after = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["channel", "customer", "external_id", "status", "kind", "placed_after", "placed_before"]


class PromotionFilterSet(django_filters.FilterSet):
    """Promotions by SKU, promotion id, channel, location, and the dates they overlap."""

    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="iexact")
    promotion_id = django_filters.CharFilter(field_name="code")
    channel = django_filters.CharFilter(field_name="channel__code", label="Channel code")
    location = django_filters.CharFilter(field_name="location_code")
    date_from = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", label="Running on or after")
    date_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", label="Running on or before")

    class Meta:
        model = Promotion
        fields = ["sku", "promotion_id", "channel", "location", "date_from", "date_to"]
