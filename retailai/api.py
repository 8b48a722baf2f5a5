"""The API: one router per app, mounted under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from forecasting.api.urls import router as forecasting_router
from inventory.api.urls import router as inventory_router
from recommendations.api.urls import router as recommendations_router
from retailai.commerce.api.urls import router as commerce_router
from retailai.core.api.urls import router as core_router

# Each app keeps its own router; the API root lists them all.
router = DefaultRouter()
for app_router in (commerce_router, inventory_router, forecasting_router, recommendations_router, core_router):
    router.registry.extend(app_router.registry)

urlpatterns = [
    *router.urls,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
