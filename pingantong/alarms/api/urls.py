"""API routes of the alarms app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import AlarmViewSet, SignalViewSet

router = SimpleRouter(trailing_slash=True)
router.register("alarms", AlarmViewSet, basename="alarm")
router.register("alarm-signals", SignalViewSet, basename="alarm-signal")
urlpatterns = router.urls
