"""The product's URLs plus /bench/noop/: the cost of DRF, token auth, throttling and a JSON response, nothing else."""

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from recommendations.api.views import CanUseRecommendations


class NoOp(APIView):
    """Same authentication, permission and throttle classes as the recommendation endpoints; does no work."""

    permission_classes = [CanUseRecommendations]

    def get(self, request):
        return Response({"run": None, "cold_start": False, "results": []})

    def post(self, request):
        return Response({"run": None, "cold_start": False, "results": []})


class PlainNoOp(NoOp):
    """Token auth and the DRF default permission (signed in) only: the floor of any authenticated endpoint."""

    permission_classes = [IsAuthenticated]


urlpatterns = [
    path("bench/noop/", NoOp.as_view()),
    path("bench/noop-plain/", PlainNoOp.as_view()),
    path("", include("retailai.urls")),
]
