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


ACCESS_FACTORIES = {
    "clients.Client": _client,
    "clients.Contact": _contact,
    "clients.Consent": _consent,
    "clients.Application": _application,
}
