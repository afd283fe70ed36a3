from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from pingantong.core.admin import RestrictedModelAdmin, RestrictedTabularInline

from .models import RoleAssignment, Shift, User


class RoleAssignmentInline(RestrictedTabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "display_name", "phone", "is_active", "is_superuser", "last_login"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("平安通", {"fields": ("display_name", "phone")}))  # type: ignore[misc]


@admin.register(Shift)
class ShiftAdmin(RestrictedModelAdmin):
    list_display = ["seat", "user", "region", "starts_at", "ends_at"]
    list_filter = ["seat"]
    autocomplete_fields = ["region", "user"]
    date_hierarchy = "starts_at"
