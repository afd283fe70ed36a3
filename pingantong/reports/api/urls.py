"""API routes of the reports app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash=True)
urlpatterns = router.urls
