"""Filters of the forecasting API."""

import django_filters

from .models import Forecast


class ForecastFilterSet(django_filters.FilterSet):
    """Forecasts by product SKU, location, date range and frequency."""

    sku = django_filters.CharFilter(field_name="product__sku")
    location = django_filters.CharFilter(field_name="location_code")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    freq = django_filters.ChoiceFilter(field_name="run__freq", choices=[("D", "Daily"), ("W", "Weekly")])

    class Meta:
        model = Forecast
        fields = ["sku", "location", "date_from", "date_to", "freq", "model", "is_cold_start"]
