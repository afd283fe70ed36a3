"""Admin foundations: every admin of a restricted model goes through the region restriction."""

from __future__ import annotations

from django.contrib import admin

from .access import user_may


class RestrictedModelAdmin(admin.ModelAdmin):
    """ModelAdmin that shows and changes only what the user's roles allow in their regions."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_change_permission(self, request, obj=None):
        if obj is not None and not user_may(request.user, "change", obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not user_may(request.user, "delete", obj):
            return False
        return super().has_delete_permission(request, obj)
