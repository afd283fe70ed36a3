"""Location sharing (S08): a signed, expiring link that shows a client's latest position to their
contacts without a login.

The token is `django.core.signing` with a timestamp and its own salt, carrying the client id and
the link's lifetime; a forged or altered token fails the signature, an old one fails `max_age`.
The client's `location_share` consent is checked when the link is made *and* at every view, so a
withdrawal takes effect at once; every view is audit-logged (`log_read`, purpose location_share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _

SALT = "pingantong.notifications.location-share"
DEFAULT_MINUTES = 60
MAX_MINUTES = 24 * 60


class ShareLinkError(Exception):
    """Why a share link cannot be shown: `reason` is forged | expired | consent | unknown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _consented(client: Any) -> bool:
    from pingantong.clients.selectors import has_consent

    return has_consent(client, "location_share")


def make_share_token(*, client: Any, minutes: int = DEFAULT_MINUTES) -> str:
    if not _consented(client):
        raise PermissionDenied(_("The client has not consented to sharing their location."))
    minutes = max(1, min(int(minutes), MAX_MINUTES))
    return signing.dumps({"c": client.pk, "m": minutes}, salt=SALT, compress=True)


def share_url(*, client: Any, minutes: int = DEFAULT_MINUTES) -> str:
    """The absolute link for an SMS (base from PINGANTONG_PUBLIC_URL when set)."""
    path = reverse("notifications:location-share", args=[make_share_token(client=client, minutes=minutes)])
    base = getattr(settings, "PINGANTONG_PUBLIC_URL", "") or ""
    return f"{base.rstrip('/')}{path}"


@dataclass(frozen=True)
class SharedLocation:
    client: Any
    minutes: int


def open_share_token(token: str) -> SharedLocation:
    """Check a token: signature, age, the client and the consent (as of now)."""
    from pingantong.clients.models import Client

    try:
        payload = signing.loads(token, salt=SALT)
        minutes = int(payload["m"])
        signing.loads(token, salt=SALT, max_age=minutes * 60)
    except signing.SignatureExpired as exc:
        raise ShareLinkError("expired", _("This location link has expired.")) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ShareLinkError("forged", _("This location link is not valid.")) from exc
    client = Client.objects.filter(pk=payload.get("c")).first()
    if client is None:
        raise ShareLinkError("unknown", _("This location link is not valid."))
    if not _consented(client):
        raise ShareLinkError("consent", _("The client no longer shares their location."))
    return SharedLocation(client=client, minutes=minutes)


def link_or_notice(*, client: Any, minutes: int = DEFAULT_MINUTES) -> str:
    """What goes into a template's `${link}`: the share link when the client consented (S08),
    otherwise a plain notice, so that alarms to contacts never leak a location without consent."""
    try:
        return share_url(client=client, minutes=minutes)
    except PermissionDenied:
        return _("(location not shared: no consent)")
