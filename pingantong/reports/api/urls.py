"""API routes of the reports app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import SettlementLineViewSet, SettlementViewSet

router = SimpleRouter(trailing_slash=True)
router.register("settlements", SettlementViewSet, basename="settlement")
router.register("settlement-lines", SettlementLineViewSet, basename="settlement-line")
urlpatterns = router.urls
