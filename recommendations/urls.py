"""Marketer pages of the recommendations app."""

from django.urls import path

from . import views

app_name = "recommendations"
urlpatterns = [
    path("recommendations/", views.run_dashboard, name="run-dashboard"),
    path("recommendations/run-now/", views.run_now, name="run-now"),
    path("recommendations/customer/<str:external_id>/", views.customer_page, name="customer"),
    path("recommendations/product/<str:sku>/", views.product_page, name="product"),
]
