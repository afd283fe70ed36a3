"""Home-page widgets: each app may contribute one with `register_widget`.

    def my_widget(request) -> dict | None:
        return {"title": _("Open alarms"), "template": "alarms/widgets/open.html", "context": {...}}
    home.register_widget(my_widget, order=10)

The template is rendered with the widget's `context` keys at top level, plus `title` and `request`.
Return None when the widget is not for this user (check roles; query through `.restrict()`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

log = logging.getLogger(__name__)

_WIDGETS: list[tuple[int, Callable[[HttpRequest], dict | None]]] = []


def register_widget(func: Callable[[HttpRequest], dict | None], order: int = 100) -> None:
    """`func(request)` returns {"title", "template", "context"} or None when not for this user."""
    if func not in [f for _o, f in _WIDGETS]:
        _WIDGETS.append((order, func))


def collect_widgets(request: HttpRequest) -> list[dict]:
    """The rendered widgets for this request, in order: [{"title", "html"}]."""
    result = []
    for _order, func in sorted(_WIDGETS, key=lambda item: item[0]):
        widget = func(request)
        if not widget:
            continue
        context = {**widget.get("context", {}), "title": widget.get("title", "")}
        html: SafeString = render_to_string(widget["template"], context, request=request)
        result.append({"title": widget.get("title", ""), "html": html})
    return result
