"""Access-matrix factories (pingantong.testing.access_matrix): one record of each model per region."""

from __future__ import annotations

from django.utils import timezone

from pingantong.clients.testing import make_client, make_contact


def _client(region_code: str):
    from pingantong.testing.regions import village_of

    return make_client(region=village_of(region_code) if region_code.endswith("000") else region_code)


def _contact(region_code: str):
    return make_contact(_client(region_code))


def _consent(region_code: str):
    from pingantong.clients.models import Consent

    return Consent.objects.create(
        client=_client(region_code),
        purpose="location_query",
        granted=True,
        effective_at=timezone.now(),
        method="written",
    )


def _application(region_code: str):
    from pingantong.clients.models import Application

    return Application.objects.create(client=_client(region_code), filed_at=timezone.now())


def _step(region_code: str):
    from pingantong.clients.models import ApplicationStep

    return ApplicationStep.objects.create(
        application=_application(region_code), action="file", at=timezone.now()
    )


def _notice(region_code: str):
    from pingantong.clients.models import Notice

    return Notice.objects.create(role="township", region_code=region_code, message="test")


def _agreement(region_code: str):
    from pingantong.clients.models import Agreement

    return Agreement.objects.create(
        client=_client(region_code),
        rights_and_duties="-",
        risk_sharing="-",
        dispute_resolution="-",
        starts_on=timezone.localdate(),
    )


def _termination(region_code: str):
    from pingantong.clients.models import Termination

    return Termination.objects.create(
        client=_client(region_code), reason="other", effective_date=timezone.localdate()
    )


def _frequency(region_code: str):
    from pingantong.clients.models import FrequencyChangeRequest

    return FrequencyChangeRequest.objects.create(client=_client(region_code), kind="call", interval_days=3)


ACCESS_FACTORIES = {
    "clients.ApplicationStep": _step,
    "clients.Notice": _notice,
    "clients.Agreement": _agreement,
    "clients.Termination": _termination,
    "clients.FrequencyChangeRequest": _frequency,
    "clients.Client": _client,
    "clients.Contact": _contact,
    "clients.Consent": _consent,
    "clients.Application": _application,
}
