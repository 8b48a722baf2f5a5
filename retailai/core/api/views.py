"""API views of the core app."""

from rest_framework import viewsets

from retailai.core.models import JobRun

from .permissions import IsInternal
from .serializers import JobRunSerializer


class JobRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Job runs with status and progress (poll one to follow a long job)."""

    queryset = JobRun.objects.select_related("created_by")
    serializer_class = JobRunSerializer
    permission_classes = [IsInternal]
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at", "finished_at"]
