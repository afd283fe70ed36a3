"""Home-page widgets: each app may contribute one with `register_widget`."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

_WIDGETS: list[tuple[int, Callable[[HttpRequest], dict | None]]] = []


def register_widget(func: Callable[[HttpRequest], dict | None], order: int = 100) -> None:
    """`func(request)` returns {"title", "template", "context"} or None when not for this user."""
    if func not in [f for _o, f in _WIDGETS]:
        _WIDGETS.append((order, func))


def collect_widgets(request: HttpRequest) -> list[dict]:
    result = []
    for _order, func in sorted(_WIDGETS, key=lambda item: item[0]):
        widget = func(request)
        if widget:
            result.append(widget)
    return result
