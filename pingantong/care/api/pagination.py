"""Worklist pagination without COUNT(*): a district's worklist may hold tens of thousands of active
tasks, and counting them costs more than fetching the page (benchmarks: docs/benchmarks.md).
The paginator itself is shared: pingantong.core.drf.NoCountPagination."""

from pingantong.core.drf import NoCountPagination, page_of

__all__ = ["NoCountPagination", "page_of"]
