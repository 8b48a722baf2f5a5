"""Serializers of the core API."""

from rest_framework import serializers

from retailai.core.models import JobRun


class JobRunSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField()

    class Meta:
        model = JobRun
        fields = [
            "id",
            "kind",
            "parameters",
            "status",
            "progress",
            "message",
            "metrics",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
