"""Base views that log reads of sensitive fields by themselves (`audit_read_fields`)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory, force_authenticate

from pingantong.accounts.api.views import ShiftViewSet
from pingantong.accounts.choices import Role
from pingantong.accounts.models import Shift
from pingantong.accounts.tests.factories import make_shift_in
from pingantong.core.views import RestrictedDetailView
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


def _reads() -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=LogEntry.Action.ACCESS))


def test_detail_page_logs_the_read_with_purpose(sibling_towns):
    class ShiftDetail(RestrictedDetailView):
        model = Shift
        template_name = "core/pagination.html"  # any template: the read is what matters
        audit_read_fields = ("note",)

    shift = make_shift_in(sibling_towns[0])
    request = RequestFactory().get("/", {"purpose": "回访核实"}, REMOTE_ADDR="10.0.0.9")
    request.user = make_user(Role.SUPERVISOR, sibling_towns[0])
    assert ShiftDetail.as_view()(request, pk=shift.pk).status_code == 200
    (entry,) = _reads()
    assert entry.actor == request.user and entry.remote_addr == "10.0.0.9"
    assert entry.additional_data == {
        "kind": "read",
        "fields": ["note"],
        "purpose": "回访核实",
        "region": sibling_towns[0],
    }


def test_api_retrieve_logs_the_read_and_list_does_not(sibling_towns):
    class AuditedShiftViewSet(ShiftViewSet):
        audit_read_fields = ("note",)

    shift = make_shift_in(sibling_towns[0])
    user = make_user(Role.SUPERVISOR, sibling_towns[0])
    factory = APIRequestFactory()
    request = factory.get("/", HTTP_X_PURPOSE="alarm follow-up")
    force_authenticate(request, user)
    response = AuditedShiftViewSet.as_view({"get": "retrieve"})(request, pk=shift.pk)
    assert response.status_code == 200 and response.data["id"] == shift.pk
    (entry,) = _reads()
    assert entry.additional_data["purpose"] == "alarm follow-up"

    listing = factory.get("/")
    force_authenticate(listing, user)
    assert AuditedShiftViewSet.as_view({"get": "list"})(listing).status_code == 200
    assert len(_reads()) == 1


def test_a_refused_retrieve_logs_nothing(sibling_towns):
    class AuditedShiftViewSet(ShiftViewSet):
        audit_read_fields = ("note",)

    shift = make_shift_in(sibling_towns[1])
    request = APIRequestFactory().get("/")
    force_authenticate(request, make_user(Role.SUPERVISOR, sibling_towns[0]))
    assert AuditedShiftViewSet.as_view({"get": "retrieve"})(request, pk=shift.pk).status_code == 404
    assert _reads() == []
