"""Contact cascade (S01, S08): filled in below."""

from __future__ import annotations

from typing import Any


def start_cascade(*, alarm_id: int) -> None:
    return None


def stop_cascade(*, alarm: Any) -> None:
    return None
