"""API routes of the inventory app."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("stock-levels", views.StockLevelViewSet, basename="stocklevel")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("supplier-products", views.SupplierProductViewSet, basename="supplierproduct")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchaseorder")
urlpatterns = router.urls
