"""Serializers of the forecasting API."""

from rest_framework import serializers

from forecasting.models import Forecast


class ForecastSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    freq = serializers.CharField(source="run.freq", read_only=True)

    class Meta:
        model = Forecast
        fields = ["run", "freq", "sku", "location_code", "date", "q10", "q50", "q90", "quantiles", "model",
                  "is_cold_start"]  # fmt: skip
        read_only_fields = fields
