"""Admin foundations: every admin of a restricted model goes through the region restriction."""

from __future__ import annotations

from auditlog.admin import LogEntryAdmin  # importing it registers LogEntry: replaced below
from auditlog.models import LogEntry
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from .access import user_may
from .models import AuditEntry


class RestrictedAdminMixin:
    """Queryset cut down to the user's regions; object permissions checked on each record."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")  # type: ignore[misc]

    def has_change_permission(self, request, obj=None):
        if obj is not None and not user_may(request.user, "change", obj):
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not user_may(request.user, "delete", obj):
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]


class RestrictedModelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """ModelAdmin that shows and changes only what the user's roles allow in their regions."""

    def save_model(self, request, obj, form, change):
        # A record may only be created in, or moved to, a region the user may act on.
        if not user_may(request.user, "change" if change else "add", obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class RestrictedTabularInline(RestrictedAdminMixin, admin.TabularInline):
    """Inline rows of a restricted model, cut down like the model's own admin."""


class RestrictedStackedInline(RestrictedAdminMixin, admin.StackedInline):
    """Stacked inline rows of a restricted model, cut down like the model's own admin."""


# The audit log in the admin: django-auditlog's read-only LogEntry admin, cut down like every other
# restricted admin. Its registration for the unrestricted LogEntry is replaced, so that a staff
# user with the view permission cannot read the whole log past the region restriction.
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(RestrictedAdminMixin, LogEntryAdmin):
    """Read-only audit entries of the user's region subtree."""
