"""Introspection and data for the access matrix (core/tests/test_access_matrix.py).

Two questions are asked of the whole project:

1. Structure: does every web view, API view and admin of a model with an `access_policy` inherit
   from the restricted base classes (so that it cannot forget `restrict()`)?
2. Behaviour: for every restricted model that has an API list endpoint and an *access-test
   factory*, does each role held in one town see its own town's records (if the policy lets it
   view) and never the sibling town's?

An app makes its models part of (2) by providing, in `pingantong/<app>/tests/factories.py`:

    ACCESS_FACTORIES = {"clients.Client": make_client_in}   # callable(region_code) -> saved instance

or a classmethod `access_test_factory(region_code)` on the model. Every restricted model must
have one (the matrix fails otherwise). A model whose records no API list, web list page or admin
change list shows (they appear only inside a parent's page, e.g. a task's history) is declared with
the reason, and is then checked at the queryset level only:

    ACCESS_UNLISTED = {"care.TaskEvent": "nested in the restricted Task's detail"}

An API list that aggregates records instead of listing them by `id` names the row field that holds
the (ancestor) region the row sums up: `ACCESS_AGGREGATE_LISTS = {"care.DailyCoverage": "region"}`.
See docs/architecture.md.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

Factory = Callable[[str], models.Model]


@dataclass(frozen=True)
class Route:
    path: str  # the regex/route, joined
    name: str | None  # namespaced url name
    callback: Any
    view_class: type | None
    initkwargs: dict

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            cb = p.callback
            view_class = getattr(cb, "view_class", None) or getattr(cb, "cls", None)
            initkwargs = getattr(cb, "initkwargs", None) or getattr(cb, "view_initkwargs", None) or {}
            name = f"{namespace}{p.name}" if p.name else None
            yield Route(prefix + str(p.pattern), name, cb, view_class, dict(initkwargs))


@functools.cache
def _routes_cached(urlconf_id: int) -> tuple[Route, ...]:
    return tuple(_walk(get_resolver().url_patterns))


def all_routes() -> list[Route]:
    """Every URL pattern of the project (cached per URLconf: it does not change during a run)."""
    return list(_routes_cached(id(get_resolver())))


def model_of_view(view_class: type, initkwargs: dict | None = None) -> type[models.Model] | None:
    """The model a class-based view or viewset works on: `model`, `queryset.model`, or the
    serializer's `Meta.model`."""
    initkwargs = initkwargs or {}
    model = initkwargs.get("model") or getattr(view_class, "model", None)
    if model is None:
        qs = initkwargs.get("queryset", getattr(view_class, "queryset", None))
        model = getattr(qs, "model", None)
    if model is None:
        serializer = getattr(view_class, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None:
        form = getattr(view_class, "form_class", None)
        model = getattr(getattr(form, "_meta", None), "model", None)
    return model if isinstance(model, type) and issubclass(model, models.Model) else None


def is_restricted(model: type[models.Model] | None) -> bool:
    return model is not None and getattr(model, "access_policy", None) is not None


def restricted_routes() -> list[tuple[Route, type[models.Model]]]:
    result = []
    for route in all_routes():
        if route.view_class is None:
            continue
        model = model_of_view(route.view_class, route.initkwargs)
        if is_restricted(model):
            assert model is not None
            result.append((route, model))
    return result


def admin_registrations() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return list(admin.site._registry.items())


def api_list_route(model: type[models.Model]) -> Route | None:
    """The API route that lists `model` (a viewset's `list` action), if any."""
    for route in all_routes():
        if not route.is_api or route.view_class is None:
            continue
        actions = route.initkwargs.get("actions") or getattr(route.callback, "actions", None) or {}
        if actions.get("get") == "list" and model_of_view(route.view_class, route.initkwargs) is model:
            return route
    return None


def api_detail_route(model: type[models.Model]) -> Route | None:
    for route in all_routes():
        if not route.is_api or route.view_class is None:
            continue
        actions = route.initkwargs.get("actions") or getattr(route.callback, "actions", None) or {}
        if actions.get("get") == "retrieve" and model_of_view(route.view_class, route.initkwargs) is model:
            return route
    return None


def web_list_routes(model: type[models.Model]) -> list[Route]:
    """Web list pages of `model` that take no URL arguments (RestrictedListView subclasses)."""
    from django.views.generic.list import MultipleObjectMixin

    return [
        route
        for route in all_routes()
        if not route.is_api
        and route.view_class is not None
        and issubclass(route.view_class, MultipleObjectMixin)
        and "<" not in route.path
        and "(?P" not in route.path
        and model_of_view(route.view_class, route.initkwargs) is model
    ]


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def _factory_modules() -> Iterator[Any]:
    for config in apps.get_app_configs():
        if not config.name.startswith("pingantong."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.factories")
        except ModuleNotFoundError as exc:
            if exc.name not in {f"{config.name}.tests", f"{config.name}.tests.factories"}:
                raise
            module = None
        if module is not None:
            yield module


def access_factories() -> dict[str, Factory]:
    """Every access-test factory the apps provide, keyed by "app_label.ModelName"."""
    found: dict[str, Factory] = {}
    for module in _factory_modules():
        found.update(getattr(module, "ACCESS_FACTORIES", {}))
    for model in apps.get_models():
        hook = getattr(model, "access_test_factory", None)
        if is_restricted(model) and callable(hook):
            found.setdefault(_label(model), hook)
    return found


def access_payloads() -> dict[str, Callable[[str], dict]]:
    """Optional API create payloads: `ACCESS_PAYLOADS = {"app.Model": callable(region_code) -> dict}`."""
    found: dict[str, Callable[[str], dict]] = {}
    for module in _factory_modules():
        found.update(getattr(module, "ACCESS_PAYLOADS", {}))
    return found


# Restricted models of apps whose factories modules do not (yet) declare them, shown only inside
# a parent's pages; the reason says where they appear and what restricts them there. An app may
# move its entries into its own `ACCESS_UNLISTED`.
UNLISTED: dict[str, str] = {
    "alarms.AlarmStep": "an alarm's steps, nested in the restricted Alarm (detail `steps`, console page)",
    "alarms.ContactAttempt": "the contact cascade's attempts, shown inside the restricted Alarm's page",
    "clients.ApplicationStep": "an application's history, nested in the restricted Application's detail",
    "clients.Notice": "to-do notices on the application pages, read with .restrict() in a function view",
    "devices.DeviceEventRecord": "device events, shown on the device page of a restricted Device",
    "devices.DeviceState": "one row per device, nested in the restricted Device's serializer",
    "devices.LifeSign": "device life signs, read by the care selectors for restricted clients",
    "devices.PositionRecord": "a device's track, read by devices.selectors for one restricted Device",
    "devices.RawFrame": "raw frames on the gateway page, via gateway.selectors.frames_visible_to (region_q)",
    "devices.SensorRecord": "sensor telemetry written by the gateway; no page or endpoint lists it yet",
    "devices.VitalsRecord": "vitals telemetry written by the gateway; no page or endpoint lists it yet",
}


def access_unlisted() -> dict[str, str]:
    """Models declared as shown only inside other pages, with the reason (`ACCESS_UNLISTED`)."""
    found = dict(UNLISTED)
    for module in _factory_modules():
        found.update(getattr(module, "ACCESS_UNLISTED", {}))
    return found


def access_aggregate_lists() -> dict[str, str]:
    """Models whose API list sums records up by region: label -> the rows' region field."""
    found: dict[str, str] = {}
    for module in _factory_modules():
        found.update(getattr(module, "ACCESS_AGGREGATE_LISTS", {}))
    return found


def is_shown(model: type[models.Model]) -> bool:
    """Does an API list endpoint, a web list page or an admin change list show `model`'s records?"""
    return api_list_route(model) is not None or bool(web_list_routes(model)) or model in admin.site._registry


def matrix_models() -> list[tuple[str, type[models.Model]]]:
    """Every restricted model, by label (covered or not; the test says which are not)."""
    from pingantong.core.access import restricted_models

    return sorted(((_label(m), m) for m in restricted_models()), key=lambda item: item[0])


def unrestricted_views(routes: list[tuple[Route, type[models.Model]]] | None = None) -> list[str]:
    """Views of restricted models that do not inherit the restricted base classes."""
    from rest_framework.views import APIView

    from pingantong.core.api import RestrictedViewSetMixin
    from pingantong.core.views import RestrictedQuerysetMixin

    offenders = []
    for route, model in restricted_routes() if routes is None else routes:
        view_class = route.view_class
        assert view_class is not None
        base: type = RestrictedViewSetMixin if issubclass(view_class, APIView) else RestrictedQuerysetMixin
        if not issubclass(view_class, base):
            offenders.append(
                f"/{route.path} ({route.name}): {view_class.__qualname__} over {_label(model)} "
                f"must inherit {base.__name__}"
            )
    return offenders


def unrestricted_admins(registrations: list[tuple[type[models.Model], Any]] | None = None) -> list[str]:
    """Admins (and inlines) of restricted models that do not apply the restriction."""
    from pingantong.core.admin import RestrictedAdminMixin

    offenders = []
    for model, model_admin in admin_registrations() if registrations is None else registrations:
        if is_restricted(model) and not isinstance(model_admin, RestrictedAdminMixin):
            name = type(model_admin).__qualname__
            offenders.append(f"admin of {_label(model)}: {name} must inherit RestrictedModelAdmin")
        for inline in getattr(model_admin, "inlines", []):
            if is_restricted(inline.model) and not issubclass(inline, RestrictedAdminMixin):
                offenders.append(
                    f"inline {inline.__qualname__} of {_label(inline.model)} must inherit a Restricted*Inline"
                )
    return offenders
