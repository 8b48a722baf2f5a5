"""URL routing: pages, admin, API, health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from retailai.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("retailai.api")),
    path("", include("retailai.commerce.urls")),
    path("", include("inventory.urls")),
    path("", include("forecasting.urls")),
    path("", include("recommendations.urls")),
]
