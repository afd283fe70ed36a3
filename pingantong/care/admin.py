"""Admin of the care app: every restricted model through RestrictedModelAdmin."""

from __future__ import annotations

from django.contrib import admin

from pingantong.core.admin import RestrictedModelAdmin, RestrictedTabularInline

from . import models as m


class TaskEventInline(RestrictedTabularInline):
    model = m.TaskEvent
    extra = 0
    readonly_fields = ["at", "kind", "actor", "step", "level", "detail", "data"]
    can_delete = False


@admin.register(m.Task)
class TaskAdmin(RestrictedModelAdmin):
    list_display = [
        "id",
        "kind",
        "client",
        "region",
        "due_at",
        "status",
        "step",
        "escalation_level",
        "team",
        "owner",
    ]
    list_filter = ["kind", "status", "step", "team"]
    search_fields = ["client__name", "reason", "source_ref"]
    raw_id_fields = ["client", "owner", "created_by", "completed_by"]
    readonly_fields = ["created_at", "updated_at", "completed_at", "dedupe_key"]
    inlines = [TaskEventInline]


@admin.register(m.CareCall)
class CareCallAdmin(RestrictedModelAdmin):
    list_display = ["id", "client", "mode", "at", "result", "mood", "health", "agent"]
    list_filter = ["mode", "result", "mood", "health"]
    raw_id_fields = ["client", "task", "agent"]


@admin.register(m.Visit)
class VisitAdmin(RestrictedModelAdmin):
    list_display = [
        "id",
        "client",
        "worker",
        "status",
        "checked_in_at",
        "distance_m",
        "verified",
        "completed_at",
    ]
    list_filter = ["status", "verified"]
    raw_id_fields = ["client", "task", "worker"]


@admin.register(m.LifeSign)
class LifeSignAdmin(RestrictedModelAdmin):
    list_display = ["id", "client", "at", "source"]
    list_filter = ["source"]
    raw_id_fields = ["client", "recorded_by"]


@admin.register(m.DailyCoverage)
class DailyCoverageAdmin(RestrictedModelAdmin):
    list_display = ["day", "region", "due", "confirmed_by_life_sign", "tasks_opened"]
    list_filter = ["day"]


@admin.register(m.HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ["day", "is_holiday", "name"]


@admin.register(m.PartnerOrganisation)
class PartnerOrganisationAdmin(RestrictedModelAdmin):
    list_display = ["name", "kind", "region", "phone", "active"]
    list_filter = ["kind", "active"]


@admin.register(m.DirectoryEntry)
class DirectoryEntryAdmin(RestrictedModelAdmin):
    list_display = ["title", "category", "region", "updated_at"]
    list_filter = ["category"]
    search_fields = ["title", "summary"]


@admin.register(m.Activity)
class ActivityAdmin(RestrictedModelAdmin):
    list_display = ["title", "kind", "region", "starts_at", "capacity"]


@admin.register(m.Referral)
class ReferralAdmin(RestrictedModelAdmin):
    list_display = ["id", "client", "kind", "partner", "status", "referred_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["client", "task", "referred_by"]


@admin.register(m.CounsellingSession)
class CounsellingSessionAdmin(RestrictedModelAdmin):
    list_display = ["id", "client", "at", "mode", "needs_intervention"]
    raw_id_fields = ["client", "counsellor"]


@admin.register(m.InterventionFlag)
class InterventionFlagAdmin(RestrictedModelAdmin):
    list_display = ["id", "client", "raised_at", "cleared_at"]
    raw_id_fields = ["client", "session", "referral", "raised_by", "cleared_by"]
