"""Serializers of the inventory API."""

from rest_framework import serializers

from inventory.models import (
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockLevel,
    Supplier,
    SupplierProduct,
)
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
        fields = ["id", "code", "name", "email", "min_order_value", "active"]
        read_only_fields = fields


class SupplierLeadTimeSerializer(serializers.Serializer):
    """The lead times a supplier kept over the measured window (``inventory.selectors.supplier_lead_time_report``)."""

    supplier = serializers.IntegerField()
    window_days = serializers.IntegerField(help_text="Days back from today whose receipts count.")
    deliveries = serializers.IntegerField(help_text="Lines of an order first received on one day count once.")
    promised_days = serializers.FloatField(allow_null=True, help_text="Mean lead time in the supply terms.")
    actual_days = serializers.FloatField(allow_null=True, help_text="Mean days from sending to first receipt.")
    late_days = serializers.FloatField(allow_null=True, help_text="Mean days late (negative: early).")
    late_std_days = serializers.FloatField(allow_null=True, help_text="Sample deviation of the lateness.")
    on_time_share = serializers.FloatField(allow_null=True, help_text="Share of deliveries on time or early.")
    planned_with_measured = serializers.BooleanField(
        help_text="Whether suggestions plan with the lead time kept (enough deliveries) rather than the terms."
    )
    min_deliveries = serializers.IntegerField(help_text="Deliveries needed before the lead time kept is used.")


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


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id", "product", "suggested_quantity", "quantity", "received_quantity", "unit_cost", "explanation",
            "override_reason",
        ]  # fmt: skip
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier = SupplierBriefSerializer(read_only=True)
    location = LocationBriefSerializer(read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    # A plain string in the schema: the status names of other apps' models would collide in the enum components.
    status = serializers.CharField(read_only=True, help_text="One of: " + ", ".join(PurchaseOrderStatus.values) + ".")
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    second_approver = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id", "number", "supplier", "location", "status", "total_quantity", "total_value", "expected_delivery",
            "generated_for", "cover_slack_days", "is_edited", "is_auto_approved", "status_reason", "approved_by",
            "second_approver", "created_at", "updated_at", "approved_at", "second_approved_at", "sent_at",
            "supplier_confirmed_at", "shipped_at", "ship_reference", "received_at", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class PurchaseOrderPartnerSerializer(PurchaseOrderSerializer):
    """What a supplier sees: no internal reasoning (explanations, override reasons, approvers)."""

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [
            "id", "number", "supplier", "location", "status", "total_quantity", "total_value", "expected_delivery",
            "sent_at", "supplier_confirmed_at", "shipped_at", "ship_reference", "lines",
        ]  # fmt: skip
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        fields["lines"] = PartnerLineSerializer(many=True, read_only=True)
        return fields


class PartnerLineSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "product", "quantity", "received_quantity", "unit_cost"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class LineEditSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=0)
    reason = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)


class ReceiptLineSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=0)


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineSerializer(many=True, allow_empty=False)
    reference = serializers.CharField(max_length=128, allow_blank=True, required=False, default="")


class ShipNoticeSerializer(serializers.Serializer):
    expected_delivery = serializers.DateField()
    reference = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
