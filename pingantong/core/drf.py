"""DRF settings hooks (permission, pagination, error shape). Kept apart from `api.py` because
REST framework imports these while its own views module loads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, permissions
from rest_framework.pagination import PageNumberPagination


class RolePermission(permissions.BasePermission):
    """Authenticated, active and holding at least one role (or a superuser)."""

    message = "You hold no role on this platform."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return bool(user.is_superuser or user.roles)


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """Django's ValidationError and PermissionDenied from actions become clean 400/403 answers."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)
