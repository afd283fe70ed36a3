from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "display_name", "phone", "is_active", "is_superuser", "last_login"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("平安通", {"fields": ("display_name", "phone")}))
