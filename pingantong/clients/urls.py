"""Web pages of the clients app (mounted at /clients/)."""

from django.urls import path

from .views import agreements, applications, clients, public, roster

app_name = "clients"
urlpatterns = [
    path("", clients.ClientListView.as_view(), name="list"),
    path("new/", clients.client_create, name="create"),
    path("validate-id/", clients.validate_id, name="validate-id"),
    path("service-info/", public.service_info, name="service-info"),
    path("<int:pk>/", clients.ClientDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", clients.client_edit, name="edit"),
    path("<int:pk>/reveal/", clients.reveal, name="reveal"),
    path("<int:pk>/contacts/add/", clients.contact_add, name="contact-add"),
    path("contacts/<int:pk>/move/", clients.contact_move, name="contact-move"),
    path("<int:pk>/consents/add/", clients.consent_add, name="consent-add"),
    path("<int:pk>/frequency/", clients.frequency_request, name="frequency-request"),
    path("frequency/<int:pk>/confirm/", clients.frequency_confirm, name="frequency-confirm"),
    path("<int:pk>/terminate/", clients.terminate, name="terminate"),
    path("<int:pk>/agreements/new/", agreements.agreement_new, name="agreement-new"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/pdf/", agreements.agreement_pdf_view, name="agreement-pdf"),
    path("applications/", applications.ApplicationListView.as_view(), name="applications"),
    path("applications/new/", applications.application_new, name="application-new"),
    path("applications/<int:pk>/", applications.ApplicationDetailView.as_view(), name="application-detail"),
    path("applications/<int:pk>/decide/", applications.application_decide, name="application-decide"),
    path("inbox/", applications.inbox, name="inbox"),
    path("roster/import/", roster.roster_import, name="roster-import"),
    path("roster/export/", roster.roster_export, name="roster-export"),
]
