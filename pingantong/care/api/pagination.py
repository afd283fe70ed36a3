"""Worklist pagination without COUNT(*): a district's worklist may hold tens of thousands of active
tasks, and counting them costs more than fetching the page (benchmarks: docs/benchmarks.md)."""

from __future__ import annotations

from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def page_of(queryset, page: int, size: int) -> tuple[list, bool]:
    """Rows of page `page` (1-based) and whether another page follows (one extra row fetched)."""
    start = (page - 1) * size
    rows = list(queryset[start : start + size + 1])
    return rows[:size], len(rows) > size


class NoCountPagination(BasePagination):
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
