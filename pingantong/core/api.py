"""API foundations: the base viewsets that apply the region restriction, permissions, pagination
and error shape shared by every endpoint under /api/v1/."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import exceptions, viewsets
from rest_framework.response import Response

from .access import METHOD_ACTIONS, user_may
from .audit import log_read, purpose_of
from .drf import RolePermission, StandardPagination, exception_handler

__all__ = [
    "RestrictedGenericViewSet",
    "RestrictedModelViewSet",
    "RestrictedReadOnlyViewSet",
    "RestrictedViewSetMixin",
    "RolePermission",
    "StandardPagination",
    "exception_handler",
]


class RestrictedViewSetMixin:
    """Every queryset is cut down by `restrict(user, action)`; writes are checked object by object.

    Subclasses set `queryset` to a model whose manager is a RestrictedQuerySet. `restrict_action`
    maps extra @action names to policy actions (default: by HTTP method). Works with DRF's generic
    API views too (`class V(RestrictedViewSetMixin, generics.ListAPIView)`).
    """

    restrict_action: dict[str, str] = {}
    # Sensitive fields (ID number, phone, address, health, location) that `retrieve` shows
    # unmasked: each retrieve is then audit-logged with the purpose (X2). Empty: not logged.
    audit_read_fields: tuple[str, ...] = ()

    def policy_action(self) -> str:
        name = getattr(self, "action", None)
        if name in self.restrict_action:
            return self.restrict_action[name]
        if name in {"list", "retrieve"}:
            return "view"
        method = self.request.method or "GET"  # type: ignore[attr-defined]
        if method == "POST" and name != "create" and getattr(self, "detail", False):
            # A POST to a record's own @action (claim, close, confirm) changes that record.
            return "change"
        return METHOD_ACTIONS.get(method, "view")

    def get_queryset(self):
        qs = super().get_queryset()  # type: ignore[misc]
        action = self.policy_action()
        # Creating is checked on the new object; the queryset for lookups is the viewable one.
        return qs.restrict(self.request.user, "view" if action == "add" else action)  # type: ignore[attr-defined]

    def check_new_object(self, obj: Any, action: str = "add") -> None:
        """Refuse a record that would land outside the regions the user may `action` in."""
        if not user_may(self.request.user, action, obj):  # type: ignore[attr-defined]
            raise exceptions.PermissionDenied("This record is outside the regions you may add to.")

    def perform_create(self, serializer) -> None:
        # Save, check the saved record's region, and roll back if it is out of reach: this also
        # covers serializers that set the region from related objects or many-to-many fields.
        with transaction.atomic():
            obj = serializer.save()
            self.check_new_object(obj, "add")

    def perform_update(self, serializer) -> None:
        # The lookup already required `change` on the record where it was; it must also be
        # changeable where it ends up, so nobody moves a record into a sibling region.
        with transaction.atomic():
            obj = serializer.save()
            self.check_new_object(obj, "change")

    def retrieve_logged(self) -> Response:
        """DRF's retrieve, with the read logged before any data leaves."""
        instance = self.get_object()  # type: ignore[attr-defined]
        self.log_retrieve(instance)
        return Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]

    def log_retrieve(self, obj: Any) -> None:
        if self.audit_read_fields:
            request = self.request  # type: ignore[attr-defined]
            log_read(
                user=request.user,
                obj=obj,
                fields=self.audit_read_fields,
                purpose=purpose_of(request),
                request=request,
            )


class RestrictedModelViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    """CRUD viewset over a restricted model."""

    def retrieve(self, request, *args, **kwargs):
        return self.retrieve_logged()


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only viewset over a restricted model."""

    def retrieve(self, request, *args, **kwargs):
        return self.retrieve_logged()


class RestrictedGenericViewSet(RestrictedViewSetMixin, viewsets.GenericViewSet):
    """Base for viewsets that compose their own actions over a restricted model."""
