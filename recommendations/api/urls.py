"""API routes of the recommendations app."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("recommendations", views.RecommendationViewSet, basename="recommendation")
urlpatterns = router.urls
