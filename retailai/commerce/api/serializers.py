"""Serializers of the commerce API: they validate input and shape output; workflows live in services."""

from django.conf import settings
from rest_framework import serializers

from retailai.commerce.choices import LineKind
from retailai.commerce.models import Category, Channel, Customer, Order, OrderLine, Product, Promotion
from retailai.core.roles import is_internal


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "parent"]

    def validate_parent(self, parent: Category | None) -> Category | None:
        if parent is None or self.instance is None:
            return parent
        # Walk up from the new parent: meeting this category on the way would close a loop.
        node, seen = parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == self.instance.pk:
                raise serializers.ValidationError("A category cannot sit below itself or one of its descendants.")
            seen.add(node.pk)
            node = node.parent
        return parent


class ProductSerializer(serializers.ModelSerializer):
    category = CategoryBriefSerializer(read_only=True)
    category_id = serializers.PrimaryKeyRelatedField(
        source="category", queryset=Category.objects.all(), allow_null=True, required=False, write_only=True
    )

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "category", "category_id", "brand", "unit_cost", "list_price", "attributes",
            "is_merchandise", "active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "unit_cost": {"min_value": 0, "help_text": "Shown to the retailer's own roles only."},
            "list_price": {"min_value": 0},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        # Partners see prices, never the retailer's cost.
        if request is not None and not is_internal(request.user):
            data.pop("unit_cost", None)
        return data


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "country", "region", "first_seen", "attributes", "created_at"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    net_amount = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["line_number", "sku", "kind", "quantity", "unit_price", "discount_amount", "net_amount"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True, allow_null=True)
    is_guest = serializers.BooleanField(read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "channel", "external_id", "customer", "is_guest", "kind", "status", "placed_at", "country",
            "currency", "created_at", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0)
    discount_amount = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, default=0)
    kind = serializers.ChoiceField(
        choices=[(k.value, k.label) for k in (LineKind.SALE, LineKind.CANCELLATION, LineKind.RETURN)],
        default=LineKind.SALE,
    )


class OrderCreateSerializer(serializers.Serializer):
    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.all(),
        required=False,
        help_text="Channel code. Required for Staff; a channel partner's orders always go to its own channel.",
    )
    external_id = serializers.CharField(max_length=64, help_text="The channel's order id; unique per channel.")
    placed_at = serializers.DateTimeField()
    customer_external_id = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True, help_text="Omit for a guest order."
    )
    country = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text=f"ISO 4217 code; {settings.RETAILAI_CURRENCY} when omitted."
    )
    lines = OrderLineInputSerializer(many=True, allow_empty=False)

    def validate_currency(self, value: str) -> str:
        return value.upper()

    def validate_customer_external_id(self, value: str | None) -> str | None:
        return value or None

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        skus = {line["sku"] for line in lines}
        known = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
        # Keyed by line index, the shape DRF gives the other per-line errors (LIST_SERIALIZER_ERRORS_AS_DICT).
        errors = {
            index: {"sku": [f"Unknown SKU '{line['sku']}'."]}
            for index, line in enumerate(lines)
            if line["sku"] not in known
        }
        if errors:
            raise serializers.ValidationError(errors)
        return lines


class PromotionSerializer(serializers.ModelSerializer):
    promotion_id = serializers.CharField(source="code", read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    kinds = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Promotion
        fields = [
            "id", "promotion_id", "name", "sku", "channel", "location_code", "start_date", "end_date", "kinds",
            "discount_depth", "promo_price", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields
