"""Service agreement (P2) and its Chinese PDF; termination (P4) and its effects."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pingantong.clients import actions
from pingantong.clients.choices import AgreementStatus, ClientStatus
from pingantong.clients.models import ServiceItem
from pingantong.clients.signals import client_terminated
from pingantong.clients.testing import make_client, make_contact

pytestmark = pytest.mark.django_db


def test_agreement_has_every_basic_item_and_the_chosen_extended_ones_with_fees(agent):
    ServiceItem.objects.filter(code="S22").update(monthly_price="15.00")
    ServiceItem.objects.filter(code="S09").update(monthly_price="5.00")
    client = make_client()
    agreement = actions.draft_agreement(client=client, by=agent, extended_codes=["S22", "S09"])
    codes = set(agreement.items.values_list("code", flat=True))
    basic = set(ServiceItem.objects.filter(kind="basic").values_list("code", flat=True))
    assert basic <= codes and {"S22", "S09"} <= codes
    assert {"S01", "S17"} <= basic and "S12" not in basic  # the plan marks S12 extended
    assert str(agreement.basic_monthly_fee) == "30.00" and str(agreement.extended_monthly_fee) == "20.00"
    assert "争议" in agreement.dispute_resolution and agreement.risk_sharing and agreement.rights_and_duties


def test_a_basic_item_cannot_be_chosen_as_extended(agent):
    with pytest.raises(ValidationError):
        actions.draft_agreement(client=make_client(), by=agent, extended_codes=["S01"])


def test_signing_records_signer_and_ends_the_previous_agreement(agent):
    client = make_client()
    first = actions.draft_agreement(client=client, by=agent, starts_on=dt.date(2026, 1, 1))
    actions.sign_agreement(agreement=first, by=agent, signed_by="张三", signed_on=dt.date(2026, 1, 1))
    second = actions.draft_agreement(client=client, by=agent, starts_on=dt.date(2026, 6, 1))
    actions.sign_agreement(agreement=second, by=agent, signed_by="张小三", signer_relation="儿子")
    first.refresh_from_db()
    assert first.status == AgreementStatus.ENDED and first.ends_on == dt.date(2026, 5, 31)
    assert second.signed_by == "张小三" and second.signer_relation == "儿子"


def test_agreement_pdf_is_chinese_and_carries_the_clients_name(client, agency_admin):
    from pypdf import PdfReader

    person = make_client(name="陈秀珍", address="列东街道江滨路8号")
    make_contact(person, name="陈建国")
    agreement = actions.draft_agreement(client=person, by=agency_admin)
    client.force_login(agency_admin)
    response = client.get(reverse("clients:agreement-pdf", args=[agreement.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "陈秀珍" in text and "服务协议" in text and "争议解决" in text
    assert person.id_number in text.replace(" ", "")


def test_agreement_pdf_read_is_audit_logged_and_refused_to_agents(client, agency_admin, agent):
    from auditlog.models import LogEntry

    agreement = actions.draft_agreement(client=make_client(), by=agency_admin)
    client.force_login(agent)
    assert client.get(reverse("clients:agreement-pdf", args=[agreement.pk])).status_code == 403
    client.force_login(agency_admin)
    client.get(reverse("clients:agreement-pdf", args=[agreement.pk]))
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=agency_admin).get()
    assert "id_number" in entry.additional_data["fields"]


def test_termination_ends_service_keeps_records_and_tells_subscribers(
    agency_admin, django_capture_on_commit_callbacks
):
    client = make_client()
    agreement = actions.draft_agreement(client=client, by=agency_admin)
    actions.sign_agreement(agreement=agreement, by=agency_admin, signed_by="本人")
    received = []

    def receiver(sender, *, client, termination, **kwargs):
        received.append((client.pk, termination.reason, termination.effective_date))

    client_terminated.connect(receiver, dispatch_uid="test-termination")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            actions.terminate_client(
                client=client, reason="death", effective_date=dt.date(2026, 11, 1), by=agency_admin
            )
    finally:
        client_terminated.disconnect(dispatch_uid="test-termination")
    client.refresh_from_db()
    agreement.refresh_from_db()
    assert client.status == ClientStatus.TERMINATED and client.service_end_date == dt.date(2026, 11, 1)
    assert agreement.status == AgreementStatus.ENDED and agreement.ends_on == dt.date(2026, 11, 1)
    assert received == [(client.pk, "death", dt.date(2026, 11, 1))]
    assert client.contacts.model.objects.filter(client=client).count() == client.contacts.count()  # kept
    with pytest.raises(ValidationError):
        actions.terminate_client(
            client=client,
            reason="other",
            effective_date=dt.date(2026, 11, 2),
            by=agency_admin,
            details="again",
        )


def test_future_termination_keeps_the_client_active_until_the_date(agency_admin):
    client = make_client()
    day = dt.date.today() + dt.timedelta(days=10)
    actions.terminate_client(client=client, reason="moved_out", effective_date=day, by=agency_admin)
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE and client.service_end_date == day
    assert actions.apply_due_terminations(today=day - dt.timedelta(days=1)) == 0
    assert actions.apply_due_terminations(today=day) == 1
    client.refresh_from_db()
    assert client.status == ClientStatus.TERMINATED


def test_other_reason_needs_details_and_agents_may_not_terminate(agency_admin, agent):
    from django.core.exceptions import PermissionDenied

    client = make_client()
    with pytest.raises(ValidationError):
        actions.terminate_client(
            client=client, reason="other", effective_date=dt.date.today(), by=agency_admin
        )
    with pytest.raises(PermissionDenied):
        actions.terminate_client(client=client, reason="death", effective_date=dt.date.today(), by=agent)
