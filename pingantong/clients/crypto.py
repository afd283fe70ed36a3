"""Encryption at rest for resident ID numbers, and the blind index that still lets us find them.

A leaked database must not reveal ID numbers in clear (issue 3, X2): the number is stored as a Fernet
token (AES-128-CBC + HMAC-SHA256) and, next to it, an HMAC-SHA256 "blind index" that is unique and
indexed, so that duplicate checks and a search by the full number are one indexed equality lookup.
Both keys are derived from `settings.PINGANTONG_FIELD_KEY` (falling back to SECRET_KEY) with distinct
labels, so the blind index cannot be used to decrypt and the encryption key is never the index key.
Old keys in `PINGANTONG_FIELD_KEY_FALLBACKS` still decrypt (MultiFernet) for key rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _master_keys() -> list[str]:
    primary = getattr(settings, "PINGANTONG_FIELD_KEY", "") or settings.SECRET_KEY
    fallbacks = list(getattr(settings, "PINGANTONG_FIELD_KEY_FALLBACKS", []) or [])
    return [primary, *fallbacks]


def _derive(label: str, master: str) -> bytes:
    return hashlib.sha256(f"pingantong:{label}:".encode() + master.encode()).digest()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive("fernet", k))) for k in keys])


def encrypt(value: str) -> str:
    """A Fernet token for `value` (different every call: the token is not searchable)."""
    return _fernet(tuple(_master_keys())).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear value of a token; '' for an empty token. Raises ValueError for a foreign token."""
    if not token:
        return ""
    try:
        return _fernet(tuple(_master_keys())).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("ID number cannot be decrypted with the configured keys") from exc


def blind_index(value: str) -> str:
    """The deterministic HMAC-SHA256 of a normalised value, hex: equal numbers give equal indexes."""
    key = _derive("blind-index", _master_keys()[0])
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()
