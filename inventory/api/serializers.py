"""Serializers of the inventory API."""

from rest_framework import serializers

from inventory.models import Location, StockLevel, Supplier, SupplierProduct
from retailai.commerce.models import Product


class ProductBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name"]


class LocationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name"]


class SupplierBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "code", "name"]


class StockLevelSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    location = LocationBriefSerializer(read_only=True)
    available = serializers.IntegerField(read_only=True, help_text="On hand less reserved.")
    inventory_position = serializers.IntegerField(read_only=True, help_text="On hand + on order − reserved.")

    class Meta:
        model = StockLevel
        fields = [
            "id", "product", "location", "on_hand", "on_order", "reserved", "available", "inventory_position",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "code", "name", "email", "active"]
        read_only_fields = fields


class SupplierProductSerializer(serializers.ModelSerializer):
    supplier = SupplierBriefSerializer(read_only=True)
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = SupplierProduct
        fields = [
            "id", "supplier", "product", "supplier_sku", "lead_time_days", "lead_time_std_days", "moq", "pack_size",
            "unit_cost", "order_days", "is_primary",
        ]  # fmt: skip
        read_only_fields = fields
