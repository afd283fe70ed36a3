"""API routes of the regions app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import RegionViewSet

router = SimpleRouter(trailing_slash=True)
router.register("regions", RegionViewSet, basename="region")
urlpatterns = router.urls
