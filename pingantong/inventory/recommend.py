"""The home test's device recommendation (D3), as a pure function of what the installer measured
and observed: signal decides whether a 4G wearable can be relied on, the client's condition and
wishes decide which kinds of device help."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

WEAK_SIGNAL_DBM = -105
"""Below this (or under 2 bars) a 4G terminal drops calls indoors: do not rely on it alone."""


@dataclass(frozen=True, slots=True)
class HomeTest:
    signal_dbm: int | None
    signal_bars: int | None
    mobility: str
    hearing_ok: bool
    can_press_button: bool
    cognition_ok: bool
    uses_gas: bool
    lives_alone: bool
    wishes: str = ""


def signal_ok(test: HomeTest) -> bool:
    if test.signal_dbm is not None:
        return test.signal_dbm >= WEAK_SIGNAL_DBM
    return (test.signal_bars or 0) >= 2


def recommend_types(test: HomeTest) -> dict[str, str]:
    """Device type code → why, in the order the installer should offer them."""
    out: dict[str, str] = {}
    no_watch = any(w in test.wishes for w in ("不戴手表", "no watch"))
    if signal_ok(test):
        if test.mobility != "bedridden" and test.cognition_ok and not no_watch:
            out["watch"] = _("Good 4G signal and walks about: a watch locates, calls and raises SOS anywhere")
        else:
            out["pendant"] = _("Good 4G signal: a pendant with one SOS button is simpler to use")
    else:
        out["sos_button"] = _("Weak 4G signal at home: a fixed alarm button through the home hub is reliable")
    if test.can_press_button and (test.mobility == "bedridden" or test.lives_alone):
        out.setdefault("sos_button", _("A fixed alarm button by the bed or in the bathroom"))
    if test.lives_alone:
        out["door"] = _("Lives alone: door openings prove the person is active every day")
        out["motion"] = _("Lives alone: movement at home proves the person is active")
        out["smoke"] = _("Lives alone: nobody else would notice a fire")
    if test.uses_gas:
        out["gas"] = _("Cooks with gas: a gas detector raises the alarm")
    if not test.hearing_ok:
        out["motion"] = _("Hard of hearing: calls may be missed, movement confirms the person")
    return out
