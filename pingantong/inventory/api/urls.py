"""API routes of the inventory app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("inventory/models", views.DeviceModelViewSet, basename="inventory-model")
router.register("inventory/stock", views.StockItemViewSet, basename="inventory-stock")
router.register("inventory/stock-events", views.StockEventViewSet, basename="inventory-stock-event")
router.register("inventory/charges", views.ChargeViewSet, basename="inventory-charge")
router.register("inventory/installations", views.InstallationViewSet, basename="inventory-installation")
router.register("inventory/checks", views.DeviceCheckViewSet, basename="inventory-check")
router.register("inventory/health", views.DeviceHealthViewSet, basename="inventory-health")
urlpatterns = router.urls
