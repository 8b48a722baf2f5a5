"""Serializers of the recommendations API: input validation and the shape of a served item."""

from rest_framework import serializers

from recommendations.models import EventKind


class ServedItemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class ServedListSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run_id", allow_null=True)
    cold_start = serializers.BooleanField()
    results = ServedItemSerializer(source="items", many=True)


class ListSizeSerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=50, default=10)


class BasketSerializer(serializers.Serializer):
    skus = serializers.ListField(
        child=serializers.CharField(max_length=64, trim_whitespace=True), allow_empty=False, max_length=100
    )
    k = serializers.IntegerField(min_value=1, max_value=50, default=10)


class BehaviourEventInputSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The channel's customer id (external id).")
    sku = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    at = serializers.DateTimeField(required=False, help_text="When it happened; now when left out.")
    channel = serializers.SlugField(
        required=False, help_text="Staff only; a channel partner always posts for its own channel."
    )


class BehaviourEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField(source="channel.code")
    customer = serializers.CharField(source="customer_external_id")
    sku = serializers.CharField(source="product.sku")
    kind = serializers.CharField()
    at = serializers.DateTimeField()
