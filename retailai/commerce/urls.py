"""Back-office pages of the commerce app."""

from django.urls import path

from . import views

app_name = "commerce"
urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
]
