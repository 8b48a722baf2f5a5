"""Back-office pages of the inventory app."""

from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("stock/", views.stock_list, name="stock-list"),
    path("purchase-orders/", views.purchase_order_inbox, name="po-inbox"),
    path("purchase-orders/bulk-approve/", views.purchase_order_bulk_approve, name="po-bulk-approve"),
    path("purchase-orders/overrides/", views.purchase_order_overrides, name="po-overrides"),
    path("purchase-orders/lead-times/", views.supplier_lead_times, name="po-lead-times"),
    path("purchase-orders/what-if/<str:sku>/", views.what_if, name="po-what-if"),
    path("purchase-orders/<int:pk>/", views.purchase_order_detail, name="po-detail"),
    path("purchase-orders/<int:pk>/lines.csv", views.purchase_order_lines_csv, name="po-lines-csv"),
    path("purchase-orders/<int:pk>/receive/", views.purchase_order_receive, name="po-receive"),
    path("purchase-orders/<int:pk>/lines/<int:line_pk>/", views.purchase_order_line_edit, name="po-line-edit"),
    path("purchase-orders/<int:pk>/<slug:action>/", views.purchase_order_action, name="po-action"),
]
