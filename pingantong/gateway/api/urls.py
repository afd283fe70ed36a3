"""API routes of the gateway app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
urlpatterns = [
    path("gateway/metrics/", views.GatewayMetricsView.as_view(), name="gateway-metrics"),
    path("gateway/overview/", views.GatewayOverviewView.as_view(), name="gateway-overview"),
    *router.urls,
]
