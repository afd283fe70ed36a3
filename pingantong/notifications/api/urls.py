"""API routes of the notifications app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import BroadcastViewSet, MessageViewSet, TemplateViewSet

router = SimpleRouter(trailing_slash=True)
router.register("notifications/messages", MessageViewSet, basename="notification-message")
router.register("notifications/templates", TemplateViewSet, basename="notification-template")
router.register("notifications/broadcasts", BroadcastViewSet, basename="notification-broadcast")
urlpatterns = router.urls
