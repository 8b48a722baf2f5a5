"""Back-office pages of the inventory app."""

from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("stock/", views.stock_list, name="stock-list"),
]
