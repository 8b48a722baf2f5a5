"""API routes of the core app."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("job-runs", views.JobRunViewSet, basename="jobrun")
urlpatterns = router.urls
