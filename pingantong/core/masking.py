"""Masking of identifiers in lists and exports (X2): enough to recognise, not enough to misuse."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """`350404194501011234` → `350404********1234`: region kept, birth date hidden."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """`13800138000` → `138****8000`; short numbers keep only their last two digits."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_address(value: str | None) -> str:
    """Keep the first 6 characters (town/village level), hide house details."""
    if not value:
        return ""
    return value[:6] + ("…" if len(value) > 6 else "")
