"""Admin of the clients app: restricted by region like every other view; the service catalogue (public
reference data, X1) is where the agency maintains the prices of extended items."""

from __future__ import annotations

from django.contrib import admin

from pingantong.core.admin import RestrictedModelAdmin, RestrictedTabularInline

from .models import Agreement, Application, Client, Consent, Contact, ServiceItem, Termination


class ContactInline(RestrictedTabularInline):
    model = Contact
    extra = 0


@admin.register(Client)
class ClientAdmin(RestrictedModelAdmin):
    list_display = ["name", "id_number_masked", "region", "risk_tier", "status"]
    list_filter = ["status", "risk_tier", "paying_scheme"]
    search_fields = ["name"]
    readonly_fields = ["id_number_masked", "birth_date", "gender", "enrolled_at", "service_end_date"]
    exclude = ["id_number_encrypted", "id_number_hmac"]
    raw_id_fields = ["region", "created_by"]
    inlines = [ContactInline]
    show_full_result_count = False  # no COUNT(*) over 100,000 rows per page view


@admin.register(Consent)
class ConsentAdmin(RestrictedModelAdmin):
    list_display = ["client", "purpose", "granted", "effective_at", "method"]
    list_filter = ["purpose", "granted"]
    raw_id_fields = ["client", "recorded_by"]

    def has_change_permission(self, request, obj=None):
        return False  # append-only: a withdrawal is a new record


@admin.register(Application)
class ApplicationAdmin(RestrictedModelAdmin):
    list_display = ["client", "status", "filed_at", "eligible"]
    list_filter = ["status"]
    raw_id_fields = ["client", "filed_by", "decided_by", "recorded_by"]


@admin.register(Agreement)
class AgreementAdmin(RestrictedModelAdmin):
    list_display = ["client", "status", "starts_on", "signed_on"]
    raw_id_fields = ["client", "agency_signatory"]


@admin.register(Termination)
class TerminationAdmin(RestrictedModelAdmin):
    list_display = ["client", "reason", "effective_date"]
    raw_id_fields = ["client", "recorded_by"]


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "category", "name", "kind", "monthly_price", "active"]
    list_editable = ["monthly_price", "active"]
