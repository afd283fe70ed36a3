"""Websocket routes, collected from every app that has a `routing.websocket_urlpatterns`."""

from importlib import import_module

from django.conf import settings

websocket_urlpatterns: list = []
for _app in settings.INSTALLED_APPS:
    if not _app.startswith("pingantong."):
        continue
    try:
        _module = import_module(f"{_app}.routing")
    except ModuleNotFoundError as exc:
        if exc.name != f"{_app}.routing":
            raise
        continue
    if _app != "pingantong.core":
        websocket_urlpatterns.extend(getattr(_module, "websocket_urlpatterns", []))
