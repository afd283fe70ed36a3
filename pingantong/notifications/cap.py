"""CAP 1.2 (OASIS) / GB/T 35965.1-2018 weather warnings, parsed safely.

defusedxml refuses entity expansion and external entities; the parser then checks what CAP
requires (identifier, sender, sent, status, msgType, scope, and per info: category, event,
urgency, severity, certainty, areaDesc) and reads the areas' GB/T 2260 codes from
`area/geocode/value` (6-digit county codes, or 12-digit statistical codes). A malformed alert is
rejected with the reason, nothing stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
EXTREME = {"Extreme", "Severe"}  # 红色 / 橙色: what S13 warns clients of the day before
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
CODE = re.compile(r"^\d{6}(\d{6})?$")


class CapError(ValueError):
    """The reason a CAP document was rejected."""


@dataclass(frozen=True)
class CapArea:
    description: str
    geocodes: tuple[str, ...]


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    event: str
    severity: str
    urgency: str
    certainty: str
    headline: str
    description: str
    instruction: str
    onset: datetime | None
    expires: datetime | None
    areas: tuple[CapArea, ...] = field(default_factory=tuple)
    references: str = ""

    @property
    def geocodes(self) -> list[str]:
        return sorted({code for area in self.areas for code in area.geocodes})

    @property
    def area_desc(self) -> str:
        return "、".join(area.description for area in self.areas)

    @property
    def is_extreme(self) -> bool:
        return self.severity in EXTREME and self.msg_type in {"Alert", "Update"} and self.status == "Actual"


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(element, name: str, *, required: bool = False, where: str = "alert") -> str:
    child = element.find(_tag(name))
    value = (child.text or "").strip() if child is not None else ""
    if required and not value:
        raise CapError(f"<{name}> is missing in <{where}>")
    return value


def _time(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CapError(f"<{name}> is not a CAP date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise CapError(f"<{name}> has no time zone: {value!r}")
    return parsed


def to_region_code(geocode: str) -> str:
    """GB/T 2260 six-digit code → the 12-digit statistical code of the same division."""
    return geocode.ljust(12, "0")


def parse_cap(data: bytes | str) -> CapAlert:
    if isinstance(data, str):
        data = data.encode()
    if not data.strip():
        raise CapError("the file is empty")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise CapError(f"forbidden XML construct ({type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise CapError(f"not well-formed XML: {exc}") from exc
    if root.tag != _tag("alert"):
        raise CapError(f"root element is {root.tag!r}, expected <alert> in namespace {NS}")
    identifier = _text(root, "identifier", required=True)
    sender = _text(root, "sender", required=True)
    sent = _time(_text(root, "sent", required=True), "sent")
    assert sent is not None
    status = _text(root, "status", required=True)
    msg_type = _text(root, "msgType", required=True)
    _text(root, "scope", required=True)
    if msg_type not in MSG_TYPES:
        raise CapError(f"<msgType> {msg_type!r} is not one of {', '.join(MSG_TYPES)}")
    infos = root.findall(_tag("info"))
    if not infos and msg_type in {"Alert", "Update"}:
        raise CapError("the alert has no <info> block")
    # GB/T 35965 alerts carry one info per language; prefer Chinese.
    info = next(
        (i for i in infos if _text(i, "language").lower().startswith("zh")), infos[0] if infos else None
    )
    if info is None:
        return CapAlert(
            identifier,
            sender,
            sent,
            status,
            msg_type,
            "",
            "Unknown",
            "",
            "",
            "",
            "",
            "",
            None,
            None,
            (),
            _text(root, "references"),
        )  # type: ignore[arg-type]
    for name in ("category", "event", "urgency", "severity", "certainty"):
        _text(info, name, required=True, where="info")
    severity = _text(info, "severity")
    if severity not in SEVERITIES:
        raise CapError(f"<severity> {severity!r} is not one of {', '.join(SEVERITIES)}")
    areas = []
    for area in info.findall(_tag("area")):
        desc = _text(area, "areaDesc", required=True, where="area")
        codes = []
        for geocode in area.findall(_tag("geocode")):
            value = _text(geocode, "value", required=True, where="geocode")
            if not CODE.match(value):
                raise CapError(f"area code {value!r} is not a GB/T 2260 code (6 or 12 digits)")
            codes.append(value[:6] if value.endswith("000000") else value)
        areas.append(CapArea(desc, tuple(codes)))
    if not areas:
        raise CapError("the <info> block has no <area>")
    if not any(a.geocodes for a in areas):
        raise CapError("no <area> has a <geocode>: cannot tell which clients are affected")
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,  # type: ignore[arg-type]
        status=status,
        msg_type=msg_type,
        event=_text(info, "event"),
        severity=severity,
        urgency=_text(info, "urgency"),
        certainty=_text(info, "certainty"),
        headline=_text(info, "headline"),
        description=_text(info, "description"),
        instruction=_text(info, "instruction"),
        onset=_time(_text(info, "onset") or _text(info, "effective"), "onset"),
        expires=_time(_text(info, "expires"), "expires"),
        areas=tuple(areas),
        references=_text(root, "references"),
    )
