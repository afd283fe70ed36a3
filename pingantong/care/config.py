"""Care settings, each read with a default so that a deployment may override it in settings
(`PINGANTONG_CARE_*`) without the care app depending on the lead's settings modules."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

# Q1: 孤寡, 独居, 空巢, 留守 and 计划生育特殊家庭 need their life status confirmed daily.
DEFAULT_CONFIRMATION_CATEGORIES = frozenset(
    {"childless", "living_alone", "empty_nest", "left_behind", "family_planning"}
)
# S11/Q4: at least weekly; high-risk clients more often. Q2/民政部 2022: visits high weekly, key
# monthly, others quarterly.
DEFAULT_CALL_INTERVAL_DAYS = {"high": 3, "key": 7, "general": 7}
DEFAULT_VISIT_INTERVAL_DAYS = {"high": 7, "key": 30, "general": 90}


def _get(name: str, default):
    return getattr(settings, f"PINGANTONG_CARE_{name}", default)


def confirmation_categories() -> frozenset[str]:
    return frozenset(_get("CONFIRMATION_CATEGORIES", DEFAULT_CONFIRMATION_CATEGORIES))


def life_sign_window() -> dt.timedelta:
    """A client without a life sign for this long gets a confirmation task (Q1, S06: 24 h)."""
    return dt.timedelta(hours=_get("LIFE_SIGN_WINDOW_HOURS", 24))


def confirmation_deadline() -> dt.timedelta:
    """A confirmation task is due this long after it opens (Q1: within 24 h)."""
    return dt.timedelta(hours=_get("CONFIRMATION_DEADLINE_HOURS", 24))


def automated_confirmation_calls() -> bool:
    """Start each confirmation with an automated voice call (keypress) before a person calls."""
    return bool(_get("AUTOMATED_CONFIRMATION_CALLS", True))


def automated_call_retry_delay() -> dt.timedelta:
    return dt.timedelta(minutes=_get("AUTOMATED_CALL_RETRY_MINUTES", 10))


def automated_call_retries() -> int:
    """Retries of an unanswered automated call before a human takes over."""
    return int(_get("AUTOMATED_CALL_RETRIES", 1))


def agent_call_attempts() -> int:
    """Unanswered agent calls on a confirmation before a visit is sent."""
    return int(_get("AGENT_CALL_ATTEMPTS", 2))


def agent_step_time() -> dt.timedelta:
    """How long the agent's step of a confirmation may take before it escalates to a visit."""
    return dt.timedelta(hours=_get("AGENT_STEP_HOURS", 4))


def escalation_grace() -> dt.timedelta:
    """After an escalation a task is due again this much later (so the sweep does not re-escalate
    it on every run)."""
    return dt.timedelta(hours=_get("ESCALATION_GRACE_HOURS", 2))


def call_interval_days(risk_tier: str) -> int:
    return int(_get("CALL_INTERVAL_DAYS", DEFAULT_CALL_INTERVAL_DAYS).get(risk_tier, 7))


def visit_interval_days(risk_tier: str) -> int:
    return int(_get("VISIT_INTERVAL_DAYS", DEFAULT_VISIT_INTERVAL_DAYS).get(risk_tier, 90))


def visit_checkin_radius_m() -> float:
    """A visit counts only when checked in within this distance of the home (or with a reason)."""
    return float(_get("VISIT_CHECKIN_RADIUS_M", 200))


def holiday_policy() -> str:
    """What scheduled calls and visits do on public holidays: "move" (next working day), "skip"
    (to the next regular date after the holiday) or "ignore"."""
    return str(_get("HOLIDAY_POLICY", "move"))


def default_call_window() -> tuple[dt.time, dt.time]:
    """Calling hours when a client named no preferred times (local time)."""
    start, end = _get("DEFAULT_CALL_WINDOW", ("09:00", "11:30"))
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def automated_care_call_tiers() -> frozenset[str]:
    """Risk tiers whose routine care calls start with an automated voice call (a person follows
    when nobody answers or the client presses 2); other tiers get an agent's call."""
    return frozenset(_get("AUTOMATED_CARE_CALL_TIERS", {"general"}))


def visit_due_time() -> dt.time:
    """Local time by which a scheduled visit is due on its day."""
    return dt.time.fromisoformat(_get("VISIT_DUE_TIME", "17:00"))
