"""DRF settings hooks (permission, pagination, error shape). Kept apart from `api.py` because
REST framework imports these while its own views module loads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, permissions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


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


def page_of(queryset, page: int, size: int) -> tuple[list, bool]:
    """Rows of page `page` (1-based) and whether another page follows (one extra row fetched)."""
    start = (page - 1) * size
    rows = list(queryset[start : start + size + 1])
    return rows[:size], len(rows) > size


class NoCountPagination(BasePagination):
    """Page-number pagination without COUNT(*): one extra row tells whether a next page exists.

    Used by lists that may hold tens of thousands of rows (clients, worklists), where counting
    costs more than fetching the page.
    """

    page_size = 50
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            self.page = max(1, int(request.query_params.get("page", 1)))
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            self.page, size = 1, self.page_size
        self.size = max(1, min(size, self.max_page_size))
        self.request = request
        rows, self.has_next = page_of(queryset, self.page, self.size)
        return rows

    def paginate_with(self, fetch, request):
        """Like paginate_queryset, with `fetch(page, size) -> (rows, has_next)` doing the reading."""
        try:
            self.page = max(1, int(request.query_params.get("page", 1)))
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            self.page, size = 1, self.page_size
        self.size = max(1, min(size, self.max_page_size))
        self.request = request
        rows, self.has_next = fetch(self.page, self.size)
        return rows

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        return Response(
            {
                "next": replace_query_param(url, "page", self.page + 1) if self.has_next else None,
                "previous": replace_query_param(url, "page", self.page - 1) if self.page > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "next": {"type": "string", "nullable": True},
                "previous": {"type": "string", "nullable": True},
                "results": schema,
            },
        }
