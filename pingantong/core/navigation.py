"""Navigation by role. Each app registers its entries in its AppConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str  # a lazy translation
    url_name: str
    roles: frozenset[str]
    order: int = 100
    icon: str = ""


_ITEMS: list[NavItem] = []


def register(label, url_name: str, roles, order: int = 100, icon: str = "") -> None:
    if any(item.url_name == url_name for item in _ITEMS):
        return
    _ITEMS.append(NavItem(label=label, url_name=url_name, roles=frozenset(roles), order=order, icon=icon))


def items_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    roles = set(user.roles)
    result = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if not (user.is_superuser or roles & item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        result.append({"label": item.label, "url": url, "icon": item.icon, "url_name": item.url_name})
    return result
