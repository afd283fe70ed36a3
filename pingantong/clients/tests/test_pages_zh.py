"""Every clients page renders in Chinese (the default language) for the role that uses it."""

import pytest
from django.test import Client as WebClient
from django.urls import reverse

from pingantong.clients import actions
from pingantong.clients.testing import make_client, make_contact

pytestmark = pytest.mark.django_db


def test_pages_render_in_chinese(village_user, agency_admin):
    person = make_client(name="林阿婆")
    make_contact(person)
    agreement = actions.draft_agreement(client=person, by=agency_admin)
    web = WebClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(agency_admin)
    for url in [
        reverse("clients:list"),
        reverse("clients:detail", args=[person.pk]),
        reverse("clients:create"),
        reverse("clients:edit", args=[person.pk]),
        reverse("clients:agreement", args=[agreement.pk]),
        reverse("clients:agreement-new", args=[person.pk]),
        reverse("clients:roster-import"),
        reverse("clients:applications"),
        reverse("clients:inbox"),
        reverse("clients:service-info"),
    ]:
        response = web.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in response.content.decode(), url
    web.force_login(village_user)
    assert web.get(reverse("clients:application-new")).status_code == 200
