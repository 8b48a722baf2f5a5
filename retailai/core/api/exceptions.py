"""Maps domain errors to DRF responses: 400/403/409 with a readable message and the field."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from retailai.core.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus domain errors."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body[exc.field] = [exc.message]
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
