"""API routes of the devices app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("devices", views.DeviceViewSet, basename="device")
router.register("device-commands", views.DownlinkCommandViewSet, basename="device-command")
router.register("unknown-devices", views.UnknownDeviceViewSet, basename="unknown-device")
urlpatterns = router.urls
