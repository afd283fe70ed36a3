"""Serializers of the accounts API."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ..actions import validate_shift
from ..models import RoleAssignment, Shift, User


class RoleAssignmentSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "username", "role", "role_display", "region", "region_name", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The logged-in user: who they are and which roles they hold where."""

    roles = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "is_superuser", "roles", "languages"]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[dict]:
        rows = user.role_assignments.select_related("region").order_by("role", "region_id")
        return [
            {
                "role": a.role,
                "role_display": str(a.get_role_display()),
                "region": a.region_id,
                "region_name": a.region.name,
            }
            for a in rows
        ]

    def get_languages(self, user: User) -> list[str]:
        from django.conf import settings

        return [code for code, _name in settings.LANGUAGES]


class ShiftSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Shift
        fields = ["id", "user", "user_name", "region", "region_name", "seat", "starts_at", "ends_at", "note"]

    def validate(self, attrs: dict) -> dict:
        candidate = Shift(**{**self._current(), **attrs})
        try:
            validate_shift(candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        inst = self.instance
        return {
            "pk": inst.pk,
            "user": inst.user,
            "region": inst.region,
            "seat": inst.seat,
            "starts_at": inst.starts_at,
            "ends_at": inst.ends_at,
        }
