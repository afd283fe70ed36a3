"""API routes of the sync app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import OutboxEventViewSet

router = SimpleRouter(trailing_slash=True)
router.register("sync/outbox", OutboxEventViewSet, basename="outbox-event")
urlpatterns = router.urls
