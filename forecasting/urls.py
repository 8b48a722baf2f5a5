"""Buyer pages of the forecasting app."""

from django.urls import path

from . import views

app_name = "forecasting"
urlpatterns = [
    path("forecasts/", views.run_dashboard, name="run-dashboard"),
    path("forecasts/run-now/", views.run_now, name="run-now"),
    path("forecasts/product/<str:sku>/", views.product_forecast_page, name="product"),
]
