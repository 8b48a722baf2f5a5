"""API routes of the forecasting app."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("forecasts", views.ForecastViewSet, basename="forecast")
urlpatterns = router.urls
