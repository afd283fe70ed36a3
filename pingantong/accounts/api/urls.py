"""API routes of the accounts app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import MeView, RoleAssignmentViewSet, ShiftViewSet

router = SimpleRouter(trailing_slash=True)
router.register("role-assignments", RoleAssignmentViewSet, basename="role-assignment")
router.register("shifts", ShiftViewSet, basename="shift")

urlpatterns = [
    path("users/me/", MeView.as_view(), name="users-me"),
    *router.urls,
]
